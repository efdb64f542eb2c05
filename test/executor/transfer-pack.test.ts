/**
 * Packs from a hostile sender (a compromised worker, a corrupted blob): every problem is a TransferError with a
 * reason, never another exception out of the coordinator, and nothing unpacked keeps a setuid bit or world write.
 * Packs are built here byte by byte from the format's description (length, JSON header, bytes; gzipped), not with
 * packFolder, so a hostile header can be written.
 */
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Transfer, TransferError } from '../../src/executor/transfer.js';
import { packFolder, unpackFolder } from '../../src/executor/transfer-pack.js';
import { temporaryDir } from '../lab/fixtures.js';

const scratch = temporaryDir('successor-pack-');
afterAll(() => scratch.remove());
let counter = 0;
const fresh = () => join(scratch.path, `out-${counter++}`);

/** One pack from raw entries: a header (any JSON text) and the file's bytes. */
function pack(entries: Array<{ header: string; bytes?: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  for (const { header, bytes = Buffer.alloc(0) } of entries) {
    const headerBytes = Buffer.from(header);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(headerBytes.length);
    parts.push(length, headerBytes, bytes);
  }
  return gzipSync(Buffer.concat(parts));
}
const file = (path: string, mode: number, content: string) => ({ header: JSON.stringify({ path, mode, bytes: Buffer.byteLength(content) }), bytes: Buffer.from(content) });

describe('unpacking a hostile pack', () => {
  it('drops setuid, setgid, sticky and group/world write from the modes a pack names', () => {
    const destination = fresh();
    unpackFolder(pack([file('tool', 0o6777, '#!/bin/sh\n'), file('notes/open.txt', 0o1666, 'x')]), destination, 1 << 20);
    expect(lstatSync(join(destination, 'tool')).mode & 0o7777).toBe(0o755);
    expect(lstatSync(join(destination, 'notes/open.txt')).mode & 0o7777).toBe(0o644);
  });

  it('turns every malformed pack into a TransferError', () => {
    const attempts: Array<[Buffer, RegExp]> = [
      [pack([{ header: '{ not json' }]), /not JSON/],
      [pack([{ header: JSON.stringify({ path: 'a', mode: 420, bytes: 1, extra: true }), bytes: Buffer.from('x') }]), /malformed file header/],
      [pack([file('run.ts', 0o644, 'x'), file('run.ts/evil.ts', 0o644, 'y')]), /'run.ts\/evil.ts' could not be written/],
      [pack([file('same.txt', 0o644, 'x'), file('same.txt', 0o644, 'y')]), /names 'same.txt' twice/],
      [pack([file(`${'d/'.repeat(70)}x`, 0o644, 'x')]), /more than 64 folders deep/],
      [pack([file('../outside.txt', 0o644, 'x')]), /outside its folder/],
      [pack([{ header: JSON.stringify({ path: 'big', mode: 420, bytes: 100 }), bytes: Buffer.from('short') }]), /ends inside 'big'/],
      [Buffer.from('not gzip at all'), /could not be unpacked/],
    ];
    for (const [bytes, reason] of attempts) {
      let thrown: unknown = null;
      try {
        unpackFolder(bytes, fresh(), 1 << 20);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, String(reason)).toBeInstanceOf(TransferError);
      expect((thrown as Error).message).toMatch(reason);
    }
  });

  it('a folder round-trips through a shared directory, admitted on arrival', async () => {
    const source = fresh();
    mkdirSync(join(source, 'checkpoint'), { recursive: true });
    writeFileSync(join(source, 'checkpoint', 'model.bin'), 'weights');
    const transfer = new Transfer({ redis: {} as Redis, sharedDir: join(scratch.path, 'shared') });
    const ref = await transfer.putFolder(source);
    const destination = fresh();
    await transfer.getFolder(ref, destination);
    expect(readFileSync(join(destination, 'checkpoint', 'model.bin'), 'utf8')).toBe('weights');
    expect(lstatSync(join(destination, 'checkpoint')).mode & 0o7777).toBe(0o755);
    expect(packFolder(destination, 1 << 20).length).toBeGreaterThan(0);
  });
});
