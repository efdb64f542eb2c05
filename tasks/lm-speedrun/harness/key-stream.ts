/**
 * Trusted: random draws that only the holder of a run key can predict, for lm-speedrun's per-run data: a stream of
 * uniform numbers from AES-256-CTR keyed by HMAC-SHA256(run key, label), and the few samplers the language needs
 * (alias tables, Zipf vectors, permutations).
 *
 * Not here: what is drawn (language.ts).
 */
import { createCipheriv, createHmac } from 'node:crypto';

const STREAM_BLOCK_BYTES = 1 << 16;

/** Uniform random numbers from AES-256-CTR keyed by HMAC-SHA256(run key, label): unpredictable without the key. */
export class KeyStream {
  private readonly cipher;
  private block = Buffer.alloc(0);
  private offset = 0;
  private spareNormal: number | undefined;

  constructor(key: string, label: string) {
    if (!/^[0-9a-f]{32,}$/.test(key)) throw new Error('the run key must be at least 16 bytes of hex');
    const aesKey = createHmac('sha256', Buffer.from(key, 'hex')).update(`successor-language:${label}`).digest();
    this.cipher = createCipheriv('aes-256-ctr', aesKey, Buffer.alloc(16));
  }

  uint32(): number {
    if (this.offset + 4 > this.block.length) {
      this.block = this.cipher.update(Buffer.alloc(STREAM_BLOCK_BYTES));
      this.offset = 0;
    }
    const value = this.block.readUInt32LE(this.offset);
    this.offset += 4;
    return value;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.uint32() >>> 5) * 67108864 + (this.uint32() >>> 6)) / 9007199254740992;
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const value = this.spareNormal;
      this.spareNormal = undefined;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
}

export function zipf(size: number, exponent: number): Float64Array {
  const weights = Float64Array.from({ length: size }, (_, rank) => (rank + 1) ** -exponent);
  const total = weights.reduce((sum, value) => sum + value, 0);
  return weights.map((value) => value / total);
}

/** Vose's alias table: draws index i with probability weights[i] / sum in O(1). */
export interface AliasTable {
  threshold: Float64Array;
  alias: Int32Array;
}

export function aliasTable(weights: ArrayLike<number>): AliasTable {
  const size = weights.length;
  let total = 0;
  for (let index = 0; index < size; index++) total += weights[index];
  const scaled = Float64Array.from({ length: size }, (_, index) => (weights[index] * size) / total);
  const threshold = new Float64Array(size).fill(1);
  const alias = Int32Array.from({ length: size }, (_, index) => index);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((value, index) => (value < 1 ? small : large).push(index));
  while (small.length > 0 && large.length > 0) {
    const less = small.pop()!;
    const more = large.pop()!;
    threshold[less] = scaled[less];
    alias[less] = more;
    scaled[more] -= 1 - scaled[less];
    (scaled[more] < 1 ? small : large).push(more);
  }
  return { threshold, alias };
}

export function drawAlias(table: AliasTable, stream: KeyStream): number {
  const position = stream.uniform() * table.threshold.length;
  const index = Math.floor(position);
  return position - index < table.threshold[index] ? index : table.alias[index];
}

/** A random permutation of `vector` (Fisher-Yates). */
export function permuted(vector: Float64Array, stream: KeyStream): Float64Array {
  const out = Float64Array.from(vector);
  for (let index = out.length - 1; index > 0; index--) {
    const other = Math.floor(stream.uniform() * (index + 1));
    [out[index], out[other]] = [out[other], out[index]];
  }
  return out;
}
