/**
 * The one gate every file tree passes on its way out of a sandbox (a run's artifacts before they move into the
 * state dir and before the scorer reads them, what a scorer or stage script wrote, a folder a queue worker sent)
 * before anything trusted reads it. It admits only regular files and directories: a symbolic link, FIFO, socket,
 * device or hard link is refused, as is a tree past its caps on depth, entries or bytes. What it admits it
 * normalises: owned by the lab's uid and gid, folders 0755, files 0644 (0755 when any execute bit was set), so no
 * setuid, setgid or sticky bit, no group or world write, and no odd owner reaches the host.
 *
 * A refusal is a value (the caller voids the run and removes the tree), and so is a tree that cannot be read; it
 * never throws. It must run when nothing untrusted can still change the tree (the run's processes are dead): the checks
 * use descriptors, but a tree rewritten between two walks is not this file's problem.
 */
import { constants, type Stats } from 'node:fs';
import { chmod, open, type FileHandle } from 'node:fs/promises';
import { labOwner, type HostOwner } from './sandbox-user.js';
import { describePath, walkTree } from './tree-walk.js';

export interface TreeCaps {
  /** Deepest entry below the root (its children are depth 1). */
  maxDepth: number;
  /** Entries (files and folders) below the root. */
  maxEntries: number;
  /** Sum of the files' sizes (apparent or allocated, whichever is larger). */
  maxBytes: number;
}

export type TreeAdmission =
  | { admitted: true; exists: boolean; entries: number; bytes: number }
  | { admitted: false; reason: string };

const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const DIRECTORY_MODE = 0o755;
const FILE_MODE = 0o644;
const EXECUTABLE_MODE = 0o755;

function kindOf(stats: Stats): string {
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isBlockDevice() || stats.isCharacterDevice()) return 'a device';
  return 'a special file';
}

/** Opens what the walk saw as `expected`, refusing a swap; a file the lab cannot read (mode 0000) is opened up first. */
async function openSame(path: string, expected: Stats, directory: boolean): Promise<FileHandle | null> {
  const flags = FILE_FLAGS | (directory ? constants.O_DIRECTORY : 0);
  let handle = await open(path, flags).catch((error: NodeJS.ErrnoException) => (error.code === 'EACCES' ? null : Promise.reject(error)));
  if (!handle) {
    await chmod(path, directory ? 0o700 : 0o600); // the lab's own file (a lab that is not root): lstat said it is no link
    handle = await open(path, flags);
  }
  const stats = await handle.stat();
  if (stats.ino !== expected.ino || stats.dev !== expected.dev || stats.isDirectory() !== directory) {
    await handle.close();
    return null;
  }
  return handle;
}

/**
 * Checks and normalises the tree at `root` (a missing root is admitted, empty). `owner` is who the files must end
 * up owned by: the lab, unless a caller hands the tree on (it then calls sandbox-user.ts's handOverTree itself).
 */
export async function admitTree(root: string, caps: TreeCaps, owner: HostOwner = labOwner()): Promise<TreeAdmission> {
  const canChown = labOwner().uid === 0;
  let bytes = 0;
  const refuse = (reason: string) => ({ stop: reason });
  try {
    const summary = await walkTree(root, { maxDepth: caps.maxDepth, maxEntries: caps.maxEntries }, async ({ path, names, depth, stats }) => {
      const where = names.length > 0 ? describePath(names) : 'the folder itself';
      const directory = stats.isDirectory();
      if (!directory && !stats.isFile()) return refuse(`${where} is ${kindOf(stats)}; only regular files and folders may leave the sandbox`);
      if (depth === 0 && !directory) return refuse('the artifacts are not a folder');
      if (!directory && stats.nlink > 1) return refuse(`${where} is a hard link (${stats.nlink} names); only files the run wrote may leave the sandbox`);
      if (!directory) {
        bytes += Math.max(stats.size, stats.blocks * 512);
        if (bytes > caps.maxBytes) return refuse(`the files hold more than ${caps.maxBytes} bytes`);
      }
      if (!canChown && (stats.uid !== owner.uid || stats.gid !== owner.gid)) {
        return refuse(`${where} is owned by ${stats.uid}:${stats.gid}, not the lab's ${owner.uid}:${owner.gid}`);
      }
      const handle = await openSame(path, stats, directory);
      if (!handle) return refuse(`${where} changed while it was checked`);
      try {
        if (canChown) await handle.chown(owner.uid, owner.gid);
        const mode = directory ? DIRECTORY_MODE : stats.mode & 0o111 ? EXECUTABLE_MODE : FILE_MODE;
        await handle.chmod(mode); // after chown: chown clears setuid/setgid, chmod sets the final bits
      } finally {
        await handle.close();
      }
    });
    if (summary.stoppedFor) return { admitted: false, reason: summary.stoppedFor };
    return { admitted: true, exists: summary.exists, entries: summary.entries, bytes };
  } catch (error) {
    return { admitted: false, reason: `the tree could not be checked: ${(error as Error).message}` };
  }
}
