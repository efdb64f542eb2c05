/**
 * A seeded pseudo-random generator (xoshiro128**, seeded through splitmix32) so that every bootstrap and every
 * synthetic test is reproducible from one integer. Not cryptographic, and not meant to match numpy's streams:
 * results are reproducible within this project, not across implementations.
 */

export interface Random {
  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number;
  /** Uniform integer in [0, count). */
  integer(count: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
}

/** splitmix32: spreads a small seed over the four state words so that seeds 1, 2, 3... give unrelated streams. */
function splitmix32(state: number): () => number {
  let value = state >>> 0;
  return () => {
    value = (value + 0x9e3779b9) >>> 0;
    let mixed = value;
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b);
    mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
    return (mixed ^ (mixed >>> 16)) >>> 0;
  };
}

export function createRandom(seed: number): Random {
  if (!Number.isInteger(seed)) throw new TypeError(`seed must be an integer, got ${seed}`);
  // Fold seeds beyond 32 bits in rather than truncating them, so 2^32 + 1 and 1 differ.
  const seeder = splitmix32((seed >>> 0) ^ Math.floor(seed / 2 ** 32));
  let s0 = seeder();
  let s1 = seeder();
  let s2 = seeder();
  let s3 = seeder();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point of xoshiro

  const nextUint32 = (): number => {
    const result = Math.imul(rotateLeft(Math.imul(s1, 5), 7), 9) >>> 0;
    const shifted = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= shifted;
    s3 = rotateLeft(s3, 11);
    return result;
  };

  const uniform = (): number => {
    const high = nextUint32() >>> 5; // 27 bits
    const low = nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  };

  let spareNormal: number | undefined;
  return {
    uniform,
    integer(count: number): number {
      return Math.floor(uniform() * count);
    },
    normal(): number {
      if (spareNormal !== undefined) {
        const value = spareNormal;
        spareNormal = undefined;
        return value;
      }
      let radius = 0;
      let first = 0;
      let second = 0;
      do {
        first = 2 * uniform() - 1;
        second = 2 * uniform() - 1;
        radius = first * first + second * second;
      } while (radius >= 1 || radius === 0);
      const scale = Math.sqrt((-2 * Math.log(radius)) / radius);
      spareNormal = second * scale;
      return first * scale;
    },
  };
}

function rotateLeft(value: number, bits: number): number {
  return ((value << bits) | (value >>> (32 - bits))) >>> 0;
}
