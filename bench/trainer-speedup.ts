/**
 * Measures trainer-speedup's baseline and its reference solution through the real harness and sandbox, alternating
 * (so drift of the machine falls on both), and prints each run's wall and CPU seconds, the scorer's verdict, the
 * means and the speedup (wall, and CPU for a loaded machine). A benchmark, not a test: numbers depend on the machine.
 *
 *   node bin/run-ts.js bench/trainer-speedup.ts [--runs 3] [--reference DIR] [--json]
 *
 * `--reference DIR` measures another reference solution: a folder laid out like tasks/trainer-speedup/reference
 * (`files/` written over the workspace, an optional `change.json`). When the native backend lands in src/gpt, copy
 * its files (and a recipe.json naming its kernels) into such a folder and measure it the same way; then set the
 * task's `reference.score` to the measured mean, as for the wasm reference today.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createSandbox } from '../src/sandbox/create-sandbox.js';
import { loadChangeFolder, loadReferenceChange, lineageOfChange } from '../src/suites/reference.js';
import { emptyChange } from '../src/task/change.js';
import { runExperiment } from '../src/task/harness.js';
import { loadTask } from '../src/task/loader.js';
import { isScored } from '../src/task/outcome.js';
import { prepareTask } from '../src/task/prepare.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const { values: flags } = parseArgs({ options: { runs: { type: 'string', default: '3' }, reference: { type: 'string' }, json: { type: 'boolean', default: false } } });
const runs = Number(flags.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${flags.runs}`);
const task = loadTask('trainer-speedup');
const referenceChange = flags.reference ? loadChangeFolder(resolve(flags.reference)) : loadReferenceChange(task);
if (!referenceChange) throw new Error('no reference solution found');
const stateDir = mkdtempSync(join(tmpdir(), 'bench-trainer-speedup-'));
const sandbox = await createSandbox('auto');
const prepared = await prepareTask(task, stateDir);
const results: Record<'baseline' | 'reference', { wallSeconds: number; cpuSeconds: number; status: string; reason?: string }[]> = { baseline: [], reference: [] };
try {
  for (let index = 0; index < runs; index++) {
    for (const label of ['baseline', 'reference'] as const) {
      const change = label === 'baseline' ? emptyChange() : referenceChange;
      const name = `${label}-${index}`;
      const result = await runExperiment({
        task, prepared, sandbox, lineage: lineageOfChange(task, change),
        experimentDir: join(stateDir, 'experiments', name), scratchDir: join(stateDir, 'scratch', name), stagedDataDir: join(stateDir, 'staged', name),
      });
      const { outcome } = result;
      const row = { wallSeconds: result.wallSeconds ?? Number.NaN, cpuSeconds: Number(outcome.metrics.cpuSeconds ?? Number.NaN), status: outcome.status, ...('reason' in outcome ? { reason: outcome.reason } : {}) };
      results[label].push(row);
      process.stderr.write(`${name}: ${row.status}${isScored(outcome) ? '' : ` (${row.reason})`} wall ${row.wallSeconds.toFixed(2)} s, cpu ${row.cpuSeconds.toFixed(2)} s\n`);
    }
  }
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const summary = {
  sandbox: sandbox.kind,
  baseline: { wall: results.baseline.map((row) => row.wallSeconds), cpu: results.baseline.map((row) => row.cpuSeconds), meanWall: mean(results.baseline.map((row) => row.wallSeconds)) },
  reference: { wall: results.reference.map((row) => row.wallSeconds), cpu: results.reference.map((row) => row.cpuSeconds), meanWall: mean(results.reference.map((row) => row.wallSeconds)) },
  passed: [...results.baseline, ...results.reference].every((row) => row.status === 'ok'),
};
const speedup = summary.baseline.meanWall / summary.reference.meanWall;
const cpuSpeedup = mean(summary.baseline.cpu) / mean(summary.reference.cpu);
if (flags.json) process.stdout.write(`${JSON.stringify({ ...summary, speedup, cpuSpeedup })}\n`);
else {
  process.stdout.write(`baseline  wall ${summary.baseline.wall.map((value) => value.toFixed(1)).join(', ')} s (mean ${summary.baseline.meanWall.toFixed(1)}), cpu ${summary.baseline.cpu.map((value) => value.toFixed(1)).join(', ')} s\n`);
  process.stdout.write(`reference wall ${summary.reference.wall.map((value) => value.toFixed(1)).join(', ')} s (mean ${summary.reference.meanWall.toFixed(1)}), cpu ${summary.reference.cpu.map((value) => value.toFixed(1)).join(', ')} s\n`);
  process.stdout.write(`speedup ${speedup.toFixed(2)}x wall, ${cpuSpeedup.toFixed(2)}x CPU; every run passed the scorer: ${summary.passed}\n`);
}
