/**
 * Integrity of trusted files: hash a set of files and directories before a run and after it, and name what
 * changed, appeared or disappeared. The harness voids a run whose trusted files changed (`invalid`).
 *
 * Every regular file gets a sha256 of its content plus its mode; a symlink is recorded as a link (its target text),
 * never followed; directories are recorded with their mode. Reading is hardened against the tree changing under
 * us: files are opened with O_NOFOLLOW | O_NONBLOCK and checked to still be regular files (a FIFO planted between
 * lstat and open must not hang the trusted process). Not here: what to do about a change (the harness decides).
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

export type EntryHash =
  | { kind: 'file'; sha256: string; sizeBytes: number; mode: number }
  | { kind: 'symlink'; target: string }
  | { kind: 'directory'; mode: number }
  | { kind: 'other'; mode: number }; // sockets, FIFOs, devices: recorded, never opened

/** Absolute path -> hash, keys in sorted order. */
export type TreeHashes = Record<string, EntryHash>;

export interface IntegrityChange {
  changed: string[];
  added: string[];
  removed: string[];
  /** True when nothing changed, appeared or disappeared. */
  intact: boolean;
}

/** Hashes every root (file, directory tree or symlink). A root that does not exist is simply absent. */
export async function hashTree(roots: string[]): Promise<TreeHashes> {
  const entries: [string, EntryHash][] = [];
  const pending = roots.map((root) => path.resolve(root));
  while (pending.length > 0) {
    const entryPath = pending.pop()!;
    const stats = await lstat(entryPath).catch(() => null);
    if (!stats) continue;
    const mode = stats.mode & 0o7777;
    if (stats.isSymbolicLink()) entries.push([entryPath, { kind: 'symlink', target: await readlink(entryPath) }]);
    else if (stats.isDirectory()) {
      entries.push([entryPath, { kind: 'directory', mode }]);
      for (const name of await readdir(entryPath)) pending.push(path.join(entryPath, name));
    } else if (stats.isFile()) entries.push([entryPath, await hashFile(entryPath)]);
    else entries.push([entryPath, { kind: 'other', mode }]);
  }
  entries.sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  return Object.fromEntries(entries);
}

async function hashFile(filePath: string): Promise<EntryHash> {
  const handle = await open(filePath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    const mode = stats.mode & 0o7777;
    if (!stats.isFile()) return { kind: 'other', mode };
    const hash = createHash('sha256');
    const buffer = Buffer.alloc(1 << 20);
    let sizeBytes = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      sizeBytes += bytesRead;
    }
    return { kind: 'file', sha256: hash.digest('hex'), sizeBytes, mode };
  } finally {
    await handle.close();
  }
}

const same = (left: EntryHash, right: EntryHash) => JSON.stringify(left) === JSON.stringify(right);

export function compareHashes(before: TreeHashes, after: TreeHashes): IntegrityChange {
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [entryPath, hash] of Object.entries(before)) {
    const now = after[entryPath];
    if (!now) removed.push(entryPath);
    else if (!same(hash, now)) changed.push(entryPath);
  }
  const added = Object.keys(after).filter((entryPath) => !(entryPath in before));
  return { changed, added, removed, intact: changed.length + added.length + removed.length === 0 };
}

/** One sha256 over the whole tree (paths and entry hashes, in order): a compact value for the journal. */
export function treeDigest(hashes: TreeHashes): string {
  const hash = createHash('sha256');
  for (const [entryPath, entry] of Object.entries(hashes)) hash.update(`${JSON.stringify(entryPath)} ${JSON.stringify(entry)}\n`);
  return hash.digest('hex');
}
