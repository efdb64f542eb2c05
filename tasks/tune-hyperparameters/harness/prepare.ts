/** Trusted: draws the two-spirals points (seeded): 400 for training (inputs), 400 held out (hidden). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const parameters = JSON.parse(process.env.SUCCESSOR_PARAMS ?? '{}') as { seed: number; pointsPerSplit: number; noise: number };
let state = parameters.seed >>> 0;
const random = (): number => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
function spirals(count: number): { points: [number, number][]; labels: number[] } {
  const points: [number, number][] = [];
  const labels: number[] = [];
  for (let index = 0; index < count; index++) {
    const label = index % 2;
    const radius = 0.1 + random() * 0.9; // 1.5 turns, the two arms half a turn apart
    const angle = radius * 3 * Math.PI + label * Math.PI;
    points.push([radius * Math.cos(angle) + (random() - 0.5) * parameters.noise, radius * Math.sin(angle) + (random() - 0.5) * parameters.noise]);
    labels.push(label);
  }
  return { points, labels };
}
writeFileSync(join(process.env.SUCCESSOR_INPUTS ?? '', 'train.json'), JSON.stringify(spirals(parameters.pointsPerSplit)));
writeFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'test.json'), JSON.stringify(spirals(parameters.pointsPerSplit)));
