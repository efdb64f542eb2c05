/**
 * The contract suite against the unsandboxed fallback, on the cases it can honestly pass here, plus what it must
 * say about itself: every isolation protection is listed as missing.
 */
import { describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/sandbox/index.js';
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
