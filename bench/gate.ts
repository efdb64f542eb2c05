/**
 * Gate benchmark (`npm run bench:gate -- [--runs N] [--json]`): the lab's promise, measured. Simulated research runs
 * over the real gate code (gate-simulation.ts) on tasks whose changes do nothing (noise 2-15% the seed does not
 * explain; a calm machine, one that drifts as much as it is noisy, and an unsteady one that drifts by 5%; normal
 * and heavy-tailed noise) give the per-run false-acceptance rate,
 * against the promise (at most alpha = 0.05 per run); tasks with one real gain among do-nothing changes give the
 * power, for gains of 3 noise standard deviations and of 2-50%.
 * A benchmark, not a test: it prints rates with their 95% intervals; the promise is a property of many runs.
 */
import { parseArgs } from 'node:util';
import { createRandom } from '../src/stats/random.js';
import { type World, simulateRun } from './gate-simulation.js';

const { values: flags } = parseArgs({ options: { runs: { type: 'string', default: '400' }, candidates: { type: 'string', default: '30' }, json: { type: 'boolean', default: false } } });
const runs = Number(flags.runs);
const candidates = Number(flags.candidates);
const ALPHA = 0.05;

const calm = (noise: number): World => ({ noise, tails: 'normal', driftAmplitude: 0, driftPeriodSeconds: 1, driftWalkPerRun: 0, baselineSeconds: 60 });
/** A machine that drifts as much as it is noisy: a wave of ± the noise over 30 minutes, a random walk, heavy-tailed noise. */
const drifting = (noise: number): World => ({ noise, tails: 't4', driftAmplitude: noise, driftPeriodSeconds: 1800, driftWalkPerRun: noise / 10, baselineSeconds: 60 });
/** A machine that drifts by more than its noise: a ±5% wave over 30 minutes and a random walk of 0.5% per run. */
const unsteady = (noise: number): World => ({ noise, tails: 't4', driftAmplitude: 0.05, driftPeriodSeconds: 1800, driftWalkPerRun: 0.005, baselineSeconds: 60 });

/** Wilson 95% interval of a proportion. */
function interval(successes: number, total: number): [number, number] {
  const z = 1.96;
  const p = successes / total;
  const center = (p + (z * z) / (2 * total)) / (1 + (z * z) / total);
  const half = (z * Math.sqrt((p * (1 - p)) / total + (z * z) / (4 * total * total))) / (1 + (z * z) / total);
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

interface Row { scenario: string; noise: number; gain: string; runs: number; rate: number; ci95: [number, number]; runsPerSimulatedRun: number }
const rows: Row[] = [];
const progress = (line: string) => process.stderr.write(`${line}\n`);

for (const noise of [0.02, 0.05, 0.08, 0.15]) {
  for (const [label, world] of [['calm', calm(noise)], ['drifting', drifting(noise)], ['unsteady', unsteady(noise)]] as const) {
    let falseAcceptances = 0;
    let experiments = 0;
    const random = createRandom(1000 + Math.round(noise * 1000) + label.length);
    for (let index = 0; index < runs; index++) {
      const result = simulateRun(world, Array.from({ length: candidates }, () => 0), random);
      if (result.falseAcceptance) falseAcceptances++;
      experiments += result.runs;
    }
    rows.push({ scenario: `null, ${label}`, noise, gain: 'none', runs, rate: falseAcceptances / runs, ci95: interval(falseAcceptances, runs), runsPerSimulatedRun: experiments / runs });
    progress(`null ${label} noise ${noise}: ${falseAcceptances}/${runs} runs accepted a change that does nothing`);
  }
  const gains: Array<[string, number]> = [['3 sd', 3 * noise], ['2%', Math.log(1.02)], ['5%', Math.log(1.05)], ['10%', Math.log(1.1)], ['20%', Math.log(1.2)], ['50%', Math.log(1.5)]];
  for (const [label, effect] of gains) {
    for (const [worldLabel, world] of [['calm', calm(noise)], ['drifting', drifting(noise)], ['unsteady', unsteady(noise)]] as const) {
      let found = 0;
      let experiments = 0;
      const random = createRandom(5000 + Math.round(noise * 1000) + Math.round(effect * 1e4) + worldLabel.length);
      const powerRuns = Math.max(50, Math.round(runs / 2));
      for (let index = 0; index < powerRuns; index++) {
        const effects = Array.from({ length: candidates }, () => 0);
        effects[random.integer(candidates)] = effect;
        const result = simulateRun(world, effects, random);
        if (result.acceptedEffects.some((accepted) => accepted > 0)) found++;
        experiments += result.runs;
      }
      rows.push({ scenario: `one real gain, ${worldLabel}`, noise, gain: label, runs: powerRuns, rate: found / powerRuns, ci95: interval(found, powerRuns), runsPerSimulatedRun: experiments / powerRuns });
      progress(`gain ${label} ${worldLabel} noise ${noise}: found in ${found}/${powerRuns} runs`);
    }
  }
}

if (flags.json) {
  process.stdout.write(`${JSON.stringify({ alpha: ALPHA, candidatesPerRun: candidates, rows })}\n`);
} else {
  const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
  process.stdout.write(`gate simulation: ${candidates} candidates per run, default gate (alpha ${ALPHA} per run)\n`);
  process.stdout.write(`${'scenario'.padEnd(24)} ${'noise'.padStart(5)} ${'gain'.padStart(6)} ${'runs'.padStart(5)}  ${'rate'.padStart(6)}  95% CI           runs per run\n`);
  for (const row of rows) {
    process.stdout.write(`${row.scenario.padEnd(24)} ${percent(row.noise).padStart(5)} ${row.gain.padStart(6)} ${String(row.runs).padStart(5)}  ${percent(row.rate).padStart(6)}  [${percent(row.ci95[0])}, ${percent(row.ci95[1])}]  ${row.runsPerSimulatedRun.toFixed(0)}\n`);
  }
  const nulls = rows.filter((row) => row.gain === 'none');
  const worst = nulls.reduce((max, row) => Math.max(max, row.rate), 0);
  const power = rows.filter((row) => row.gain === '3 sd' && !row.scenario.endsWith('unsteady'));
  const weakest = power.reduce((min, row) => Math.min(min, row.rate), 1);
  process.stdout.write(`promise (false acceptance per run <= ${ALPHA}): worst ${percent(worst)} — ${worst <= ALPHA ? 'met' : 'NOT met'}\n`);
  process.stdout.write(`power for a gain of 3 noise sd (>= 0.8), calm or drifting as much as the noise: weakest ${percent(weakest)} — ${weakest >= 0.8 ? 'met' : 'NOT met'}\n`);
  const unsteadyPower = rows.filter((row) => row.gain === '3 sd' && row.scenario.endsWith('unsteady'));
  process.stdout.write(`on an unsteady machine (drift of 5%, more than the noise) the power for 3 sd is ${unsteadyPower.map((row) => `${percent(row.rate)} at ${percent(row.noise)} noise`).join(', ')}: screening compares with older runs of the incumbent; the promise holds regardless\n`);
}
