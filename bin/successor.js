#!/usr/bin/env node
// The `successor` CLI. Sources are TypeScript run through tsx, so there is no build step
// and worker threads, sandboxed workspaces and the CLI all run the same files.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
