/**
 * Disk usage of a workdir, measured from the host: allocated bytes of everything under it, never following links
 * (a link the command planted must not make the trusted parent walk, or count, the rest of the host).
 * Used by the runner's disk poll; not a quota (a fast writer can overshoot by what it writes between two polls).
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface DiskUsage {
  /** Allocated bytes (st_blocks * 512), so sparse files count what they really take. */
  allocatedBytes: number;
  /** Largest apparent size among regular files modified at or after `changedSinceMs`. */
  largestChangedFileBytes: number;
}

export async function measureDiskUsage(root: string, changedSinceMs: number): Promise<DiskUsage> {
  const usage: DiskUsage = { allocatedBytes: 0, largestChangedFileBytes: 0 };
  const pending = [root];
  while (pending.length > 0) {
    const directory = pending.pop()!;
    const names = await readdir(directory).catch(() => [] as string[]); // entries vanish while the command runs
    for (const name of names) {
      const entryPath = path.join(directory, name);
      const stats = await lstat(entryPath).catch(() => null);
      if (!stats) continue;
      usage.allocatedBytes += stats.blocks * 512;
      if (stats.isDirectory()) pending.push(entryPath);
      else if (stats.isFile() && stats.mtimeMs >= changedSinceMs) {
        usage.largestChangedFileBytes = Math.max(usage.largestChangedFileBytes, stats.size);
      }
    }
  }
  return usage;
}
