/**
 * The contract suite against the unsandboxed fallback, on the cases it can honestly pass here, plus what it must
 * say about itself: every isolation protection is listed as missing. Run twice: with this machine's cgroups and
 * with none (the fallback paths: RSS polling, process-group kill).
 */
import { describe, expect, it } from 'vitest';
import { findExecutable } from '../../src/sandbox/enforcement.js';
import { createSandbox } from '../../src/sandbox/index.js';
import { createUnsandboxedSandbox } from '../../src/sandbox/unsandboxed.js';
import { sandboxContract } from './contract.js';

const sandbox = await createSandbox('off');

describe('unsandboxed fallback', () => {
  it('says loudly that it does not isolate', () => {
    expect(sandbox.kind).toBe('unsandboxed');
    for (const protection of ['network-isolation', 'filesystem-isolation', 'no-capabilities', 'pid-isolation', 'private-tmp'] as const) {
      expect(sandbox.missing).toContain(protection);
    }
    expect(sandbox.notes.join(' ')).toMatch(/turned off/);
  });
});

sandboxContract(sandbox);

// A machine without writable cgroups (not root): RSS polling for memory, process-group kill, no process limit.
const withoutCgroups = createUnsandboxedSandbox({ cgroups: null, prlimitPath: findExecutable('prlimit') });
describe('unsandboxed fallback without cgroups', () => {
  it('lists the limits it loses', () => {
    expect(withoutCgroups.missing).toEqual(expect.arrayContaining(['memory-cgroup', 'process-limit', 'whole-tree-kill']));
    expect(withoutCgroups.protections).toContain('memory-polling');
  });
});
sandboxContract(withoutCgroups, ' without cgroups');
