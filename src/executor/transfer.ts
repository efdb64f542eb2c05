/**
 * Content-addressed blobs for the queue executor: packed folders (task folders, logs, artifacts) stored under their
 * SHA-256, in Redis (with a size limit and an expiry) or in a shared directory that every machine mounts.
 * A reference ({store, hash, bytes}) travels in the job and its result; the bytes travel here, once.
 * Reading checks the hash, so a blob changed or cut short on the way is an error, never a wrong folder.
 * This is not a cache and not a general file store: blobs live as long as a run might resume (a week by default).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { admitTree } from '../sandbox/admit-tree.js';
import { removeTree } from '../sandbox/remove-tree.js';
import { TransferError, packFolder, unpackFolder } from './transfer-pack.js';

export { TransferError } from './transfer-pack.js';

/** A folder that arrived but was refused by the admission walker (a worker's artifacts with a link, say). */
export class RefusedTreeError extends TransferError {
  override name = 'RefusedTreeError';
}

/** What an unpacked folder may hold: generous, since its sender checked its own caps; only against a hostile pack. */
const UNPACKED_CAPS = { maxDepth: 64, maxEntries: 200_000 };

export const BlobRef = z.object({ store: z.enum(['redis', 'shared']), hash: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() }).strict();
export type BlobRef = z.infer<typeof BlobRef>;

export const DEFAULT_MAX_TRANSFER_BYTES = 64 * 2 ** 20;
const BLOB_TTL_SECONDS = 7 * 24 * 3600;
/** What a pack may expand to: the sender enforced its limit; this only stops a corrupt or hostile pack. */
const UNPACK_LIMIT_BYTES = 2 ** 30;
export const BLOB_KEY_PREFIX = 'successor:blob:';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export interface TransferOptions {
  redis: Redis;
  /** A folder every machine sees at the same path; blobs go there instead of into Redis. */
  sharedDir?: string;
  /** Largest folder (before compression) that may travel through Redis. */
  maxBytes?: number;
}

/** Puts and gets packed folders; one instance per process, shared by every job. */
export class Transfer {
  readonly maxBytes: number;

  constructor(private readonly options: TransferOptions) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_TRANSFER_BYTES;
  }

  private blobPath(hash: string): string {
    if (!this.options.sharedDir) throw new TransferError('this blob lies in a shared directory, but this process was started without --shared-dir');
    return join(this.options.sharedDir, 'blobs', hash.slice(0, 2), hash);
  }

  /** Packs `dir` and stores it; returns its reference. The shared directory, when given, has no size limit. */
  async putFolder(dir: string, ignore: string[] = []): Promise<BlobRef> {
    const limit = this.options.sharedDir ? Number.MAX_SAFE_INTEGER : this.maxBytes;
    let pack: Buffer;
    try {
      pack = packFolder(dir, limit, ignore);
    } catch (error) {
      if (error instanceof TransferError && !this.options.sharedDir) {
        throw new TransferError(`${error.message}; raise --max-transfer-mb or give every machine a --shared-dir`);
      }
      throw error;
    }
    const hash = sha256(pack);
    if (this.options.sharedDir) {
      const path = this.blobPath(hash);
      if (!existsSync(path)) {
        mkdirSync(join(path, '..'), { recursive: true });
        const staging = `${path}.${process.pid}.tmp`;
        writeFileSync(staging, pack);
        renameSync(staging, path);
      }
      return { store: 'shared', hash, bytes: pack.length };
    }
    // NX: the same bytes uploaded twice (a retried job, two runs of one task) are stored once.
    await this.options.redis.set(BLOB_KEY_PREFIX + hash, pack, 'EX', BLOB_TTL_SECONDS, 'NX');
    return { store: 'redis', hash, bytes: pack.length };
  }

  /** Fetches a reference and unpacks it into `destination` (replaced). */
  async getFolder(ref: BlobRef, destination: string): Promise<void> {
    const pack = ref.store === 'shared' ? this.readShared(ref.hash) : await this.options.redis.getBuffer(BLOB_KEY_PREFIX + ref.hash);
    if (!pack) throw new TransferError(`blob ${ref.hash.slice(0, 12)} is gone from Redis (expired or Redis lost its data)`);
    if (sha256(pack) !== ref.hash) throw new TransferError(`blob ${ref.hash.slice(0, 12)} does not match its hash`);
    await removeTree(destination);
    const maxBytes = Math.max(this.maxBytes, UNPACK_LIMIT_BYTES);
    try {
      unpackFolder(pack, destination, maxBytes);
    } catch (error) {
      await removeTree(destination);
      throw error;
    }
    // What a worker (or a coordinator) sent passes the same walker as anything that leaves a sandbox.
    const admission = await admitTree(destination, { ...UNPACKED_CAPS, maxBytes });
    if (!admission.admitted) {
      await removeTree(destination);
      throw new RefusedTreeError(`blob ${ref.hash.slice(0, 12)} was refused: ${admission.reason}`);
    }
  }

  private readShared(hash: string): Buffer | null {
    const path = this.blobPath(hash);
    return existsSync(path) ? readFileSync(path) : null;
  }
}
