/**
 * Seeded, deterministic random numbers for weight initialization and data sampling: xoshiro128** (Blackman &
 * Vigna) seeded through splitmix32, with Box-Muller for normals. Same seed, same sequence, on every platform.
 * Not cryptographic, and not for anything that must be unpredictable.
 */
export interface Rng {
  /** Uniform in [0, 1), with 32 random bits. */
  next(): number;
  /** Standard normal (mean 0, standard deviation 1). */
  normal(): number;
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
}

const TWO_TO_THE_32 = 4294967296;

export function createRng(seed: number): Rng {
  // splitmix32 spreads any seed (0 included) over the 128-bit state, which must not be all zeros
  let mixer = seed >>> 0;
  const splitmix32 = (): number => {
    mixer = (mixer + 0x9e3779b9) | 0;
    let z = mixer;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = splitmix32(), s1 = splitmix32(), s2 = splitmix32(), s3 = splitmix32();

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

  let spareNormal: number | null = null; // Box-Muller makes two normals at a time
  const next = (): number => nextUint32() / TWO_TO_THE_32;
  return {
    next,
    normal() {
      if (spareNormal !== null) {
        const value = spareNormal;
        spareNormal = null;
        return value;
      }
      const radius = Math.sqrt(-2 * Math.log(1 - next())); // 1 - next() is in (0, 1]: log never sees 0
      const angle = 2 * Math.PI * next();
      spareNormal = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    },
    int(maxExclusive) {
      if (!Number.isInteger(maxExclusive) || maxExclusive <= 0 || maxExclusive > TWO_TO_THE_32) {
        throw new RangeError(`int() needs an integer in [1, 2^32], got ${maxExclusive}`);
      }
      return Math.floor(next() * maxExclusive);
    },
  };
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}
