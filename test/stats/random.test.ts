/** The seeded generator: same seed, same stream; different seeds, different streams; sane ranges and moments. */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/stats/random.js';

describe('createRandom', () => {
  it('is reproducible from the seed and differs between seeds', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, createRandom(seed).uniform);
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(1)).not.toEqual(draw(2 ** 32 + 1));
  });

  it('draws uniforms in [0, 1), integers in range and standard normals', () => {
    const random = createRandom(123);
    const count = 20_000;
    let sum = 0;
    let normalSum = 0;
    let normalSquares = 0;
    let smallest = Infinity;
    let largest = -Infinity;
    const buckets = new Array(7).fill(0);
    for (let i = 0; i < count; i++) {
      const value = random.uniform();
      smallest = Math.min(smallest, value);
      largest = Math.max(largest, value);
      sum += value;
      buckets[random.integer(7)]++;
      const normal = random.normal();
      normalSum += normal;
      normalSquares += normal * normal;
    }
    expect(smallest).toBeGreaterThanOrEqual(0);
    expect(largest).toBeLessThan(1);
    expect(buckets.reduce((total, bucket) => total + bucket, 0)).toBe(count); // no integer fell outside 0..6
    // Tolerances are about 4 standard errors.
    expect(sum / count).toBeCloseTo(0.5, 1);
    for (const bucket of buckets) expect(Math.abs(bucket / count - 1 / 7)).toBeLessThan(0.01);
    expect(Math.abs(normalSum / count)).toBeLessThan(0.03);
    expect(Math.abs(normalSquares / count - 1)).toBeLessThan(0.05);
  });

  it('rejects a non-integer seed', () => {
    expect(() => createRandom(1.5)).toThrow(/integer/);
  });
});
