/**
 * Trees that untrusted code shaped: the descriptor-relative walker (depth and entry caps, no PATH_MAX), the disk
 * poll's count of entries, the admission walker every tree passes on its way out of a sandbox (refusals and
 * normalisation), and removal of a tree far past PATH_MAX. Each tree is built by a shell, not by the code under
 * test, and checked afterwards with plain lstat (or `find`, which walks deep trees on its own).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { admitTree } from '../../src/sandbox/admit-tree.js';
import { MAX_WORKDIR_DEPTH, measureDiskUsage } from '../../src/sandbox/disk-usage.js';
import { removeTree, removeTreeSync } from '../../src/sandbox/remove-tree.js';
import { handOverTree } from '../../src/sandbox/sandbox-user.js';
import { walkTree } from '../../src/sandbox/tree-walk.js';

let root = '';
beforeEach(() => { root = mkdtempSync(path.join(tmpdir(), 'successor-trees-')); });
afterEach(() => { spawnSync('rm', ['-rf', '--', root]); });

const shell = (script: string, cwd = root) => {
  const result = spawnSync('/bin/sh', ['-c', script], { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`shell failed: ${result.stderr}`);
};
/** A chain of `levels` folders named d below `dir`, with a file at the bottom: 2 bytes of path per level (relative chdir, as an attacker would). */
function deepTree(dir: string, levels: number): void {
  const source = `const fs = require('fs'); for (let i = 0; i < ${levels}; i++) { fs.mkdirSync('d'); process.chdir('d'); } fs.writeFileSync('bottom.txt', 'x');`;
  const result = spawnSync(process.execPath, ['-e', source], { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`could not build the tree: ${result.stderr}`);
}
const isRoot = process.getuid?.() === 0;
const caps = { maxDepth: 8, maxEntries: 100, maxBytes: 1 << 20 };

describe('walkTree', () => {
  it('walks a tree 3,000 levels deep (6,000 bytes of path) without an error, and stops at its depth cap', async () => {
    deepTree(root, 3000);
    const depths: number[] = [];
    const summary = await walkTree(root, { maxDepth: 2500, maxEntries: 10_000 }, ({ depth }) => { depths.push(depth); });
    expect(summary).toMatchObject({ exists: true, limit: 'depth', entries: 2500 });
    expect(Math.max(...depths)).toBe(2500);
    const capped = await walkTree(root, { maxDepth: 10, maxEntries: 10_000 }, () => undefined);
    expect(capped.stoppedFor).toMatch(/deeper than 10 levels/);
  });

  it('never follows a symbolic link, and stops at its entry cap', async () => {
    mkdirSync(path.join(root, 'real'));
    writeFileSync(path.join(root, 'real', 'a'), 'a');
    symlinkSync('/usr', path.join(root, 'link-to-usr'));
    const seen: string[] = [];
    await walkTree(root, { maxDepth: 10, maxEntries: 100 }, ({ names, stats }) => { seen.push(`${names.join('/')}:${stats.isSymbolicLink() ? 'link' : stats.isDirectory() ? 'dir' : 'file'}`); });
    expect(seen.sort()).toEqual([':dir', 'link-to-usr:link', 'real/a:file', 'real:dir']);
    shell('mkdir many && cd many && i=0; while [ $i -lt 50 ]; do : > f$i; i=$((i + 1)); done');
    expect(await walkTree(root, { maxDepth: 10, maxEntries: 20 }, () => undefined)).toMatchObject({ limit: 'entries' });
  });

  it('reports a missing root as absent', async () => {
    expect(await walkTree(path.join(root, 'nothing'), { maxDepth: 1, maxEntries: 1 }, () => undefined)).toEqual({ exists: false, entries: 0, stoppedFor: null, limit: null });
  });
});

describe('measureDiskUsage', () => {
  it('counts entries, empty files included, and stops counting past the limit', async () => {
    shell('mkdir a && i=0; while [ $i -lt 300 ]; do : > a/f$i; i=$((i + 1)); done');
    expect((await measureDiskUsage(root, 0)).entries).toBe(301);
    expect((await measureDiskUsage(root, 0, 100)).entries).toBe(101);
  });

  it(`calls a tree deeper than ${MAX_WORKDIR_DEPTH} levels too deep instead of failing on it`, async () => {
    deepTree(root, 3000);
    const usage = await measureDiskUsage(root, 0);
    expect(usage.tooDeep).toBe(true);
    expect((await measureDiskUsage(path.join(root, 'd'), 0, 10_000)).tooDeep).toBe(true);
    expect((await measureDiskUsage(root, 0).then(() => measureDiskUsage(path.join(root, 'missing'), 0))).entries).toBe(0);
  });
});

describe('removeTree', () => {
  it('removes a tree 3,000 levels deep, which Node\'s own rm cannot', async () => {
    const dir = path.join(root, 'deep');
    mkdirSync(dir);
    deepTree(dir, 3000);
    expect(() => rmSync(dir, { recursive: true, force: true })).toThrow(); // the reference: why the lab does not use it
    expect(await removeTree(dir)).toEqual({ removed: true });
    expect(existsSync(dir)).toBe(false);
    const again = path.join(root, 'again');
    mkdirSync(again);
    deepTree(again, 3000);
    expect(removeTreeSync(again)).toEqual({ removed: true });
    expect(existsSync(again)).toBe(false);
  });

  it('removes a link, not what it points to', async () => {
    mkdirSync(path.join(root, 'target'));
    writeFileSync(path.join(root, 'target', 'keep.txt'), 'x');
    symlinkSync(path.join(root, 'target'), path.join(root, 'link'));
    await removeTree(path.join(root, 'link'));
    expect(existsSync(path.join(root, 'target', 'keep.txt'))).toBe(true);
    expect(existsSync(path.join(root, 'link'))).toBe(false);
  });
});

describe('admitTree', () => {
  const modeOf = (relative: string) => lstatSync(path.join(root, relative)).mode & 0o7777;

  it('normalises what it admits: 0755 folders, 0644 files (0755 when executable), no setuid, setgid, sticky or group/world write', async () => {
    mkdirSync(path.join(root, 'shared'));
    chmodSync(path.join(root, 'shared'), 0o1777);
    writeFileSync(path.join(root, 'shared', 'drop.txt'), 'x');
    chmodSync(path.join(root, 'shared', 'drop.txt'), 0o666);
    writeFileSync(path.join(root, 'tool'), '#!/bin/sh\n');
    chmodSync(path.join(root, 'tool'), 0o6775);
    writeFileSync(path.join(root, 'private'), 'x');
    chmodSync(path.join(root, 'private'), 0o000);
    const admission = await admitTree(root, caps);
    expect(admission).toMatchObject({ admitted: true, exists: true, entries: 4 });
    expect([modeOf('.'), modeOf('shared'), modeOf('shared/drop.txt'), modeOf('tool'), modeOf('private')]).toEqual([0o755, 0o755, 0o644, 0o755, 0o644]);
  });

  it.skipIf(!isRoot)('gives everything to the lab\'s uid and gid (as root)', async () => {
    mkdirSync(path.join(root, 'theirs'));
    writeFileSync(path.join(root, 'theirs', 'file'), 'x');
    chownSync(path.join(root, 'theirs'), 12345, 12345);
    chownSync(path.join(root, 'theirs', 'file'), 12345, 54321);
    expect((await admitTree(root, caps)).admitted).toBe(true);
    for (const relative of ['theirs', 'theirs/file']) expect(lstatSync(path.join(root, relative))).toMatchObject({ uid: 0, gid: 0 });
  });

  it('refuses a FIFO, a socket, a symbolic link (the root too) and a hard link, naming it', async () => {
    const refusal = async (make: (dir: string) => void) => {
      const dir = mkdtempSync(path.join(root, 'case-'));
      mkdirSync(path.join(dir, 'sub'));
      make(path.join(dir, 'sub'));
      const admission = await admitTree(dir, caps);
      return admission.admitted ? 'admitted' : admission.reason;
    };
    expect(await refusal((dir) => shell('mkfifo pipe', dir))).toMatch(/^sub\/pipe is a FIFO/);
    expect(await refusal((dir) => shell(`/usr/bin/python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('sock')"`, dir))).toMatch(/^sub\/sock is a socket/);
    expect(await refusal((dir) => symlinkSync('/etc/passwd', path.join(dir, 'link')))).toMatch(/^sub\/link is a symbolic link/);
    expect(await refusal((dir) => { writeFileSync(path.join(dir, 'a'), 'x'); linkSync(path.join(dir, 'a'), path.join(dir, 'b')); })).toMatch(/hard link/);
    symlinkSync(path.join(root, 'elsewhere'), path.join(root, 'as-root'));
    expect(await admitTree(path.join(root, 'as-root'), caps)).toMatchObject({ admitted: false, reason: expect.stringMatching(/the folder itself is a symbolic link/) });
  });

  it('refuses a tree past its caps on depth, entries or bytes', async () => {
    const dir = (name: string) => { const made = path.join(root, name); mkdirSync(made); return made; };
    const deep = dir('deep');
    deepTree(deep, 9);
    expect(await admitTree(deep, caps)).toMatchObject({ admitted: false, reason: expect.stringMatching(/deeper than 8 levels/) });
    const wide = dir('wide');
    shell('i=0; while [ $i -lt 101 ]; do : > f$i; i=$((i + 1)); done', wide);
    expect(await admitTree(wide, caps)).toMatchObject({ admitted: false, reason: 'more than 100 entries' });
    const heavy = dir('heavy');
    writeFileSync(path.join(heavy, 'big'), Buffer.alloc((1 << 20) + 1));
    expect(await admitTree(heavy, caps)).toMatchObject({ admitted: false, reason: expect.stringMatching(/more than 1048576 bytes/) });
  });

  it('admits a missing root as empty', async () => {
    expect(await admitTree(path.join(root, 'none'), caps)).toEqual({ admitted: true, exists: false, entries: 0, bytes: 0 });
  });
});

describe.skipIf(!isRoot)('handOverTree', () => {
  it('gives a tree to another uid, links included, without following them', async () => {
    mkdirSync(path.join(root, 'work'));
    writeFileSync(path.join(root, 'work', 'config.json'), '{}');
    symlinkSync('/etc/passwd', path.join(root, 'work', 'link'));
    await handOverTree(path.join(root, 'work'), { uid: 2_000_000_000, gid: 2_000_000_000 });
    for (const name of ['', 'config.json', 'link']) expect(lstatSync(path.join(root, 'work', name)).uid).toBe(2_000_000_000);
    expect(lstatSync('/etc/passwd').uid).toBe(0);
    expect(readdirSync(path.join(root, 'work')).sort()).toEqual(['config.json', 'link']);
  });
});
