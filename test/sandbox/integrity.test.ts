/**
 * Integrity hashing: sha256 per file (checked against coreutils' sha256sum), links recorded and never followed,
 * and a before/after comparison that names each changed, added and removed path.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareHashes, hashTree, treeDigest } from '../../src/sandbox/index.js';

describe('integrity', () => {
  let root = '';
  let outside = '';
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'successor-integrity-'));
    outside = mkdtempSync(path.join(tmpdir(), 'successor-integrity-outside-'));
    mkdirSync(path.join(root, 'harness'));
    writeFileSync(path.join(root, 'harness', 'evaluate.ts'), 'export const trusted = true;\n');
    writeFileSync(path.join(root, 'harness', 'held-out.bin'), Buffer.alloc(3 << 20, 7)); // spans several read buffers
    chmodSync(path.join(root, 'harness', 'held-out.bin'), 0o644); // independent of the umask
    writeFileSync(path.join(outside, 'secret.txt'), 'before');
    symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'harness', 'link'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('hashes files like sha256sum and records links by their target, sorted by path', async () => {
    const hashes = await hashTree([path.join(root, 'harness')]);
    const file = path.join(root, 'harness', 'held-out.bin');
    const reference = execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
    expect(hashes[file]).toEqual({ kind: 'file', sha256: reference, sizeBytes: 3 << 20, mode: 0o644 });
    expect(hashes[path.join(root, 'harness', 'link')]).toEqual({ kind: 'symlink', target: path.join(outside, 'secret.txt') });
    expect(Object.keys(hashes)).toEqual([...Object.keys(hashes)].sort());
    expect(Object.keys(hashes).some((entry) => entry.startsWith(outside))).toBe(false);
  });

  it('names what changed, appeared and disappeared, and nothing else', async () => {
    const before = await hashTree([path.join(root, 'harness')]);
    expect(compareHashes(before, await hashTree([path.join(root, 'harness')]))).toEqual({ changed: [], added: [], removed: [], intact: true });

    writeFileSync(path.join(outside, 'secret.txt'), 'after'); // behind a link: not followed, not a change
    writeFileSync(path.join(root, 'harness', 'evaluate.ts'), 'export const trusted = false;\n');
    chmodSync(path.join(root, 'harness', 'held-out.bin'), 0o755);
    writeFileSync(path.join(root, 'harness', 'planted.ts'), '');
    unlinkSync(path.join(root, 'harness', 'link'));
    symlinkSync('/etc/passwd', path.join(root, 'harness', 'link'));
    const after = await hashTree([path.join(root, 'harness')]);
    const change = compareHashes(before, after);
    expect(change.changed.sort()).toEqual(['evaluate.ts', 'held-out.bin', 'link'].map((name) => path.join(root, 'harness', name)));
    expect(change.added).toEqual([path.join(root, 'harness', 'planted.ts')]);
    expect(change.removed).toEqual([]);
    expect(change.intact).toBe(false);
    expect(treeDigest(after)).not.toBe(treeDigest(before));

    rmSync(path.join(root, 'harness', 'evaluate.ts'));
    expect(compareHashes(after, await hashTree([path.join(root, 'harness')])).removed).toEqual([path.join(root, 'harness', 'evaluate.ts')]);
  });

  it('records a FIFO without opening it (a planted pipe must not hang the trusted process)', async () => {
    execFileSync('mkfifo', [path.join(root, 'harness', 'pipe')]);
    const hashes = await hashTree([path.join(root, 'harness')]);
    expect(hashes[path.join(root, 'harness', 'pipe')]).toMatchObject({ kind: 'other' });
  });
});
