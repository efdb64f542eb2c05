/**
 * Pins the lm-speedrun workspace: copies the project's trainer (src/gpt) into tasks/lm-speedrun/workspace and
 * records its hash. The workspace is versioned data, not a live link: later speed-ups of src/gpt must not move
 * the baseline that speedups are measured against, so re-pinning is a deliberate act (bump the task's version).
 *
 *   node bin/run-ts.js scripts/pin-workspace.ts
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hashFolder } from '../src/task/prepare.js';

const root = resolve(import.meta.dirname, '..');
const workspace = join(root, 'tasks/lm-speedrun/workspace');
const configPath = join(workspace, 'config.json');
const config = existsSync(configPath) ? readFileSync(configPath, 'utf8') : null;
rmSync(workspace, { recursive: true, force: true });
cpSync(join(root, 'src/gpt'), workspace, { recursive: true });
if (config) writeFileSync(configPath, config);
// The trainer is ESM TypeScript; without this, tsx would compile it as CommonJS.
writeFileSync(join(workspace, 'package.json'), `${JSON.stringify({ name: 'lm-speedrun-workspace', private: true, type: 'module' }, null, 2)}\n`);
const hash = hashFolder(workspace, ['config.json', 'PINNED', 'package.json']);
writeFileSync(join(workspace, 'PINNED'), `pinned from src/gpt at ${new Date().toISOString().slice(0, 10)}\nsha256 of the trainer files: ${hash}\n`);
process.stdout.write(`pinned ${workspace}\nsha256 ${hash}\n`);
