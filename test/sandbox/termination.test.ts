/** The precedence of `decideTermination` and the decoding of bubblewrap's shell-style exit status. */
import { describe, expect, it } from 'vitest';
import { decideTermination, decodeShellStatus, type TerminationEvidence } from '../../src/sandbox/termination.js';

const quiet: TerminationEvidence = {
  killedFor: null, exitCode: 0, signal: null, oomKills: 0, pidsLimitHits: 0, diskOverLimit: false, fileSizeLimitReached: false,
};

describe('decideTermination', () => {
  it('reports the command\'s own ending when no limit was hit', () => {
    expect(decideTermination(quiet)).toBe('exited');
    expect(decideTermination({ ...quiet, exitCode: 1 })).toBe('exited');
    expect(decideTermination({ ...quiet, exitCode: null, signal: 'SIGSEGV' })).toBe('signaled');
  });

  it('puts the limit the parent killed for first', () => {
    expect(decideTermination({ ...quiet, killedFor: 'timeout', oomKills: 1, exitCode: null, signal: 'SIGKILL' })).toBe('timeout');
    expect(decideTermination({ ...quiet, killedFor: 'aborted', diskOverLimit: true })).toBe('aborted');
  });

  it('names a limit the kernel enforced, even after a clean exit (an artifact may be incomplete)', () => {
    expect(decideTermination({ ...quiet, exitCode: null, signal: 'SIGKILL', oomKills: 1 })).toBe('memory');
    expect(decideTermination({ ...quiet, oomKills: 1 })).toBe('memory');
    expect(decideTermination({ ...quiet, exitCode: null, signal: 'SIGXFSZ' })).toBe('disk');
    expect(decideTermination({ ...quiet, fileSizeLimitReached: true })).toBe('disk');
    expect(decideTermination({ ...quiet, diskOverLimit: true })).toBe('disk');
    expect(decideTermination({ ...quiet, exitCode: 2, pidsLimitHits: 3 })).toBe('processes');
  });
});

describe('decodeShellStatus', () => {
  it('reads 128 + N as death by signal N and leaves other codes alone', () => {
    expect(decodeShellStatus(137, null)).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(decodeShellStatus(139, null)).toEqual({ exitCode: null, signal: 'SIGSEGV' });
    expect(decodeShellStatus(3, null)).toEqual({ exitCode: 3, signal: null });
    expect(decodeShellStatus(255, null)).toEqual({ exitCode: 255, signal: null });
    expect(decodeShellStatus(null, 'SIGKILL')).toEqual({ exitCode: null, signal: 'SIGKILL' });
  });
});
