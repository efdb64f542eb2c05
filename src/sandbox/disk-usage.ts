/**
 * Disk usage of a workdir, measured from the host: allocated bytes and entries (inodes) of everything under it,
 * never following links (a link the command planted must not make the trusted parent walk, or count, the rest of
 * the host). The walk is tree-walk.ts's: iterative, descriptor-relative, bounded in depth and entries, so a tree
 * the command made to break walkers (3,000 levels deep, a million empty files) is measured as over the limit.
 * Used by the runner's disk poll; not a quota (a fast writer can overshoot by what it writes between two polls).
 */
import { walkTree } from './tree-walk.js';

/** A workdir deeper than this is over its file limit, whatever its entry count: no trainer nests folders so deep. */
export const MAX_WORKDIR_DEPTH = 128;

export interface DiskUsage {
  /** Allocated bytes (st_blocks * 512), so sparse files count what they really take. */
  allocatedBytes: number;
  /** Largest apparent size among regular files modified at or after `changedSinceMs`. */
  largestChangedFileBytes: number;
  /** Entries below the root (files, folders, links, anything); the walk stops counting past `maxEntries`. */
  entries: number;
  /** The tree goes deeper than MAX_WORKDIR_DEPTH (the walk stopped there). */
  tooDeep: boolean;
}

export async function measureDiskUsage(root: string, changedSinceMs: number, maxEntries = Number.MAX_SAFE_INTEGER): Promise<DiskUsage> {
  const usage: DiskUsage = { allocatedBytes: 0, largestChangedFileBytes: 0, entries: 0, tooDeep: false };
  const summary = await walkTree(root, { maxDepth: MAX_WORKDIR_DEPTH, maxEntries }, ({ stats, depth }) => {
    if (depth === 0) return; // the workdir itself
    usage.allocatedBytes += stats.blocks * 512;
    if (stats.isFile() && stats.mtimeMs >= changedSinceMs) usage.largestChangedFileBytes = Math.max(usage.largestChangedFileBytes, stats.size);
  }).catch(() => null); // the root vanished mid-walk: nothing to count
  usage.entries = summary?.entries ?? 0;
  usage.tooDeep = summary?.limit === 'depth';
  return usage;
}
