/**
 * Who a sandboxed command is on the host. A lab running as root runs every sandboxed command as one dedicated,
 * unprivileged uid and gid (no home, no groups, no capabilities), so the command cannot read root-only host files
 * (/etc/ssl/private, /root) and nothing it writes is root's. A lab running as an ordinary user runs it as that user:
 * it has no other uid to give, and that user is not privileged anyway.
 *
 * Also here: handing a folder the lab built (the scratch copy) over to that uid before a run, so the command can
 * write where it must. Not here: taking what a run leaves back (admit-tree.ts), running as the uid (bubblewrap.ts).
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { lchown } from 'node:fs/promises';
import { z } from 'zod';
import { SandboxError } from './types.js';
import { MAX_WORKDIR_DEPTH } from './disk-usage.js';
import { walkTree } from './tree-walk.js';

export interface HostOwner {
  uid: number;
  gid: number;
}

/**
 * Far above the ranges distributions hand out (system users, people, systemd's dynamic users, the usual subuid
 * blocks of rootless containers), so no real account or container shares it. SUCCESSOR_SANDBOX_UID picks another.
 */
export const DEFAULT_SANDBOX_UID = 2_000_000_000;

const SandboxUid = z.coerce.number().int().min(1).max(2 ** 32 - 2);

/** The lab's own uid and gid: what every file that reaches the lab's state dir ends up owned by. */
export function labOwner(): HostOwner {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/** The uid and gid sandboxed commands run as, or null when the lab is not root (they run as the lab's user). */
export function sandboxOwner(environment: NodeJS.ProcessEnv = process.env): HostOwner | null {
  if (labOwner().uid !== 0) return null;
  const given = environment.SUCCESSOR_SANDBOX_UID;
  const parsed = SandboxUid.safeParse(given ?? DEFAULT_SANDBOX_UID);
  if (!parsed.success) throw new SandboxError(`SUCCESSOR_SANDBOX_UID must be a uid between 1 and ${2 ** 32 - 2}, got '${given}'`);
  return { uid: parsed.data, gid: parsed.data };
}

/** Gives every entry below (and including) `root` to `owner`, links included, never following one. */
export async function handOverTree(root: string, owner: HostOwner): Promise<void> {
  const summary = await walkTree(root, { maxDepth: MAX_WORKDIR_DEPTH, maxEntries: 1_000_000 }, async ({ path }) => {
    await lchown(path, owner.uid, owner.gid);
  });
  if (summary.stoppedFor) throw new SandboxError(`cannot hand ${root} over to the sandbox: ${summary.stoppedFor}`);
}

/**
 * Makes `path` a folder only the lab can enter (0700). Scratch copies live below one: a run may leave a file there
 * that is setuid to the sandbox's uid (it owns its files), and until the copy is removed no other local user may
 * reach it. bwrap, running as root, still binds what lies below; inside the sandbox the path's folders are its own.
 */
export function privateFolder(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
  return path;
}
