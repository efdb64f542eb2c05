/**
 * Walks a file tree that untrusted code made, without trusting its shape: iteratively (never on the JS stack),
 * through directory descriptors (every entry is reached as `/proc/self/fd/N/name`, so no path grows with the tree's
 * depth and none passes PATH_MAX), never following a symbolic link, and bounded in depth and entries, so a tree
 * 3,000 levels deep or a million empty files costs a bounded walk and is reported, never a crash or a hang.
 *
 * The calls are synchronous (a loaded machine's thread pool made an asynchronous walk of 10,000 entries take a
 * second, the synchronous one tens of milliseconds), and the walk yields to the event loop every
 * YIELD_EVERY entries so a large tree does not stall the lab's other work.
 *
 * Linux only (it needs /proc/self/fd). Not here: what to do with what it finds (disk-usage.ts counts it,
 * admit-tree.ts checks and normalises it, sandbox-user.ts hands it over).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, opendirSync, type Dir, type Stats } from 'node:fs';

export interface WalkEntry {
  /** Reaches the entry through its parent's descriptor; valid only during the visit. */
  path: string;
  /** The names from the root down to the entry (empty for the root itself). */
  names: readonly string[];
  /** 0 for the root, 1 for its children, ... */
  depth: number;
  stats: Stats;
}

/** `skip`: do not descend into this directory; a string: stop the walk for this reason. */
export type WalkVerdict = void | 'skip' | { stop: string };

export interface WalkLimits {
  /** Deepest entry allowed (the root's children are depth 1); a deeper one stops the walk. */
  maxDepth: number;
  /** Most entries (the root not counted) before the walk stops. */
  maxEntries: number;
}

export interface WalkSummary {
  /** False when the root does not exist. */
  exists: boolean;
  /** Entries visited below the root. */
  entries: number;
  /** Why the walk stopped early: a visitor's reason, or the depth or entry limit; null when it saw everything. */
  stoppedFor: string | null;
  /** Which limit stopped it, if one did. */
  limit: 'depth' | 'entries' | null;
}

const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const YIELD_EVERY = 1000;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Frame {
  descriptor: number;
  listing: Dir;
  depth: number;
  names: string[];
}

/** The tree's relative path for messages: '/'-joined names, shortened in the middle when long. */
export function describePath(names: readonly string[]): string {
  if (names.length === 0) return '.';
  const joined = names.length > 12 ? [...names.slice(0, 4), `... ${names.length - 8} levels ...`, ...names.slice(-4)].join('/') : names.join('/');
  return joined.length > 300 ? `${joined.slice(0, 140)}...${joined.slice(-140)}` : joined;
}

/** Opens a directory the walk reached, refusing anything that is not the directory `expected` described. */
function openDirectory(path: string, expected: Stats): number | null {
  let descriptor: number;
  try {
    descriptor = openSync(path, DIRECTORY_FLAGS);
  } catch {
    return null;
  }
  const stats = (() => { try { return fstatSync(descriptor); } catch { return null; } })();
  if (!stats || !stats.isDirectory() || stats.ino !== expected.ino || stats.dev !== expected.dev) {
    closeSync(descriptor);
    return null;
  }
  return descriptor;
}

const lstatOrNull = (path: string): Stats | null => {
  try {
    return lstatSync(path);
  } catch {
    return null; // vanished
  }
};

/**
 * Visits the root, then every entry below it, parents before children. Entries that vanish during the walk (the
 * tree may still be changing) are passed over. Resolves with what it saw; rejects only when the root itself
 * cannot be read for a reason other than its absence.
 */
export async function walkTree(root: string, limits: WalkLimits, visit: (entry: WalkEntry) => WalkVerdict | Promise<WalkVerdict>): Promise<WalkSummary> {
  let rootStats: Stats;
  try {
    rootStats = lstatSync(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, entries: 0, stoppedFor: null, limit: null };
    throw error;
  }
  let entries = 0;
  const stopped = (reason: string, limit: WalkSummary['limit'] = null): WalkSummary => ({ exists: true, entries, stoppedFor: reason, limit });
  const rootVerdict = await visit({ path: root, names: [], depth: 0, stats: rootStats });
  if (typeof rootVerdict === 'object') return stopped(rootVerdict.stop);
  if (!rootStats.isDirectory() || rootVerdict === 'skip') return { exists: true, entries, stoppedFor: null, limit: null };

  const stack: Frame[] = [];
  const close = (frame: Frame) => {
    try { frame.listing.closeSync(); } catch { /* already closed */ }
    try { closeSync(frame.descriptor); } catch { /* already closed */ }
  };
  const descend = (path: string, stats: Stats, depth: number, names: string[]): void => {
    const descriptor = openDirectory(path, stats);
    if (descriptor === null) return;
    let listing: Dir;
    try {
      listing = opendirSync(`/proc/self/fd/${descriptor}`);
    } catch {
      closeSync(descriptor);
      return;
    }
    stack.push({ descriptor, listing, depth, names });
  };
  try {
    descend(root, rootStats, 0, []);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      const dirent = (() => { try { return frame.listing.readSync(); } catch { return null; } })();
      if (!dirent) {
        stack.pop();
        close(frame);
        continue;
      }
      const names = [...frame.names, dirent.name];
      const depth = frame.depth + 1;
      if (depth > limits.maxDepth) return stopped(`a directory tree deeper than ${limits.maxDepth} levels (at ${describePath(names)})`, 'depth');
      const path = `/proc/self/fd/${frame.descriptor}/${dirent.name}`;
      const stats = lstatOrNull(path);
      if (!stats) continue;
      entries += 1;
      if (entries > limits.maxEntries) return stopped(`more than ${limits.maxEntries} entries`, 'entries');
      const returned = visit({ path, names, depth, stats });
      const verdict = returned instanceof Promise ? await returned : returned; // no microtask per entry for a synchronous visitor
      if (typeof verdict === 'object') return stopped(verdict.stop);
      if (stats.isDirectory() && verdict !== 'skip') descend(path, stats, depth, names);
      if (entries % YIELD_EVERY === 0) await yieldToEventLoop();
    }
    return { exists: true, entries, stoppedFor: null, limit: null };
  } finally {
    for (const frame of stack) close(frame);
  }
}
