/**
 * The seeded generator: reproducible, seeds independent, and the three draws in their documented ranges.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/gpt/random.js';

describe('createRng', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 20 }, () => [rng.next(), rng.normal(), rng.int(1000)]);
    };
    expect(draw(0)).toEqual(draw(0));
    expect(draw(0)).not.toEqual(draw(1));
  });

  it('draws uniforms in [0, 1), integers in range, and standard normals', () => {
    const rng = createRng(1337);
    const count = 20000;
    let uniformSum = 0, normalSum = 0, normalSquares = 0;
    const intCounts = new Array(5).fill(0);
    for (let i = 0; i < count; i++) {
      const uniform = rng.next();
      expect(uniform >= 0 && uniform < 1).toBe(true);
      uniformSum += uniform;
      const normal = rng.normal();
      normalSum += normal;
      normalSquares += normal * normal;
      intCounts[rng.int(5)] += 1;
    }
    // bounds are about 5 standard errors: a correct generator essentially never fails them
    expect(Math.abs(uniformSum / count - 0.5)).toBeLessThan(0.011);
    expect(Math.abs(normalSum / count)).toBeLessThan(0.036);
    expect(Math.abs(normalSquares / count - 1)).toBeLessThan(0.05);
    for (const intCount of intCounts) expect(Math.abs(intCount / count - 0.2)).toBeLessThan(0.015);
    expect(() => rng.int(0)).toThrow(RangeError);
  });
});
