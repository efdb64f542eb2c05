/**
 * Packs a folder into one gzipped buffer and unpacks it again: how task folders, logs and artifacts travel between
 * the coordinator and the queue's workers. The format is ours and small: per file a length-prefixed JSON header
 * ({path, mode, bytes}) and the bytes, gzipped. Regular files only; symbolic links are refused, not followed.
 * Unpacking checks every path and the total size before writing, so a hostile pack cannot escape or fill a disk;
 * a mode travels as at most 0755 (no setuid, setgid, sticky or group/world write), and every error a hostile pack
 * can cause is a TransferError. What was unpacked is then admitted like any tree that leaves a sandbox
 * (transfer.ts). This is not an archive format for humans (use tar for that) and it keeps no timestamps.
 */
import { chmodSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { listFiles } from '../task/workspace.js';

/** A transfer that breaks a size limit or carries a bad file: a clear message, never a partial folder. */
export class TransferError extends Error {
  override name = 'TransferError';
}

const FileHeader = z.object({ path: z.string().min(1).max(1024), mode: z.number().int(), bytes: z.number().int().nonnegative() }).strict();
/** The mode bits a file may travel with: read and execute for all, write for its owner. */
const MODE_MASK = 0o755;
/** The deepest path a pack may name. */
const MAX_PACK_DEPTH = 64;

const megabytes = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** The folder's files in one gzipped buffer; throws TransferError past `maxBytes` (counted before compression). */
export function packFolder(dir: string, maxBytes: number, ignore: string[] = []): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  for (const path of listFiles(dir, ignore)) {
    const absolute = join(dir, path);
    const stat = lstatSync(absolute);
    if (!stat.isFile()) throw new TransferError(`${absolute}: only regular files can be transferred (a link or special file)`);
    total += stat.size;
    if (total > maxBytes) throw new TransferError(`${dir} holds more than the transfer limit of ${megabytes(maxBytes)}`);
    const header = Buffer.from(JSON.stringify({ path, mode: stat.mode & MODE_MASK, bytes: stat.size }));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(header.length);
    parts.push(length, header, readFileSync(absolute));
  }
  return gzipSync(Buffer.concat(parts), { level: 1 });
}

/** Writes a pack's files below `destination` (created); throws TransferError for bad paths or past `maxBytes`. */
export function unpackFolder(pack: Buffer, destination: string, maxBytes: number): string[] {
  let raw: Buffer;
  try {
    raw = gunzipSync(pack, { maxOutputLength: maxBytes + 1024 * 1024 });
  } catch (error) {
    throw new TransferError(`a pack could not be unpacked (corrupt or over ${megabytes(maxBytes)}): ${(error as Error).message}`);
  }
  mkdirSync(destination, { recursive: true });
  const paths: string[] = [];
  let offset = 0;
  let total = 0;
  while (offset < raw.length) {
    if (offset + 4 > raw.length) throw new TransferError('a pack ends inside a file header');
    const headerLength = raw.readUInt32BE(offset);
    if (offset + 4 + headerLength > raw.length) throw new TransferError('a pack ends inside a file header');
    let header: unknown;
    try {
      header = JSON.parse(raw.subarray(offset + 4, offset + 4 + headerLength).toString('utf8'));
    } catch {
      throw new TransferError('a pack holds a file header that is not JSON');
    }
    const parsed = FileHeader.safeParse(header);
    if (!parsed.success) throw new TransferError('a pack holds a malformed file header');
    const { path, mode, bytes } = parsed.data;
    const normalized = normalize(path).split(sep).join('/');
    if (normalized.startsWith('/') || normalized === '..' || normalized.startsWith('../') || normalized === '.') throw new TransferError(`a pack names a path outside its folder: '${path.slice(0, 200)}'`);
    if (normalized.split('/').length > MAX_PACK_DEPTH) throw new TransferError(`a pack names a path more than ${MAX_PACK_DEPTH} folders deep`);
    if (paths.includes(normalized)) throw new TransferError(`a pack names '${normalized.slice(0, 200)}' twice`);
    total += bytes;
    if (total > maxBytes) throw new TransferError(`a pack holds more than the transfer limit of ${megabytes(maxBytes)}`);
    const start = offset + 4 + headerLength;
    if (start + bytes > raw.length) throw new TransferError(`a pack ends inside '${path}'`);
    const target = join(destination, normalized);
    try {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, raw.subarray(start, start + bytes));
      chmodSync(target, mode & MODE_MASK);
    } catch (error) {
      throw new TransferError(`a pack's file '${normalized.slice(0, 200)}' could not be written: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    paths.push(normalized);
    offset = start + bytes;
  }
  return paths;
}
