/**
 * `successor horizon FILE`: METR-style 50% and 80% time horizons per agent from run records (JSONL or CSV),
 * with hierarchical-bootstrap 95% CIs, an optional SVG plot and an optional self-contained HTML report.
 * The statistics live in src/stats/; this file only parses flags, reads the file and prints.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { finiteOrNull, formatInterval, formatMinutes } from '../stats/format.js';
import { computeHorizons, type AgentHorizon, type HorizonOptions } from '../stats/horizon.js';
import { renderHorizonReport } from '../stats/horizon-report.js';
import { renderHorizonPlot } from '../stats/plot-horizon.js';
import { readRunRecords, RecordsError, type RunRecord } from '../stats/records.js';
import { weightingSchemes, type WeightingScheme } from '../stats/weighting.js';
import { action, collect, formatNumber, parseNumber, UsageError } from './common.js';

interface HorizonFlags {
  weights: string;
  regularization: string;
  bootstrap: string;
  seed: string;
  threshold?: string;
  agent?: string[];
  plot?: string;
  report?: string;
  json?: boolean;
}

/** The --json shape: the issue's fields first, then status and diagnostics; non-finite numbers become null. */
export function horizonToJson(horizon: AgentHorizon): Record<string, unknown> {
  return {
    agent: horizon.agent,
    runs: horizon.runs,
    tasks: horizon.tasks,
    slope: finiteOrNull(horizon.slope),
    intercept: finiteOrNull(horizon.intercept),
    p50Minutes: finiteOrNull(horizon.p50Minutes),
    p50Ci95: horizon.p50Ci95.map(finiteOrNull),
    p80Minutes: finiteOrNull(horizon.p80Minutes),
    p80Ci95: horizon.p80Ci95.map(finiteOrNull),
    status: horizon.status,
    ...(horizon.note && { note: horizon.note }),
    successRate: finiteOrNull(horizon.successRate),
    weightSource: horizon.weightSource,
    degenerateResamples: horizon.degenerateResamples,
  };
}

function printText(horizons: readonly AgentHorizon[]): void {
  const lines = horizons.map((horizon) => [
    `agent: ${horizon.agent}`,
    `runs: ${horizon.runs}  tasks: ${horizon.tasks}  weighted success: ${(100 * horizon.successRate).toFixed(1)}%  status: ${horizon.status}`,
    `p50: ${formatMinutes(horizon.p50Minutes)}  95% CI ${formatInterval(horizon.p50Ci95)}`,
    `p80: ${formatMinutes(horizon.p80Minutes)}  95% CI ${formatInterval(horizon.p80Ci95)}`,
    `slope: ${formatNumber(horizon.slope)}  intercept: ${formatNumber(horizon.intercept)}`,
    ...(horizon.note ? [`note: ${horizon.note}`] : []),
  ].join('\n'));
  process.stdout.write(`${lines.join('\n\n')}\n`);
}

export function register(program: Command): void {
  program
    .command('horizon')
    .description("Per-agent 50% and 80% time horizons from run records (METR's method), with 95% bootstrap CIs")
    .argument('<file>', 'run records: JSONL (METR all_runs.jsonl as it is) or CSV with a header')
    .option('--weights <scheme>', `task weighting: ${weightingSchemes.join(', ')}`, 'invsqrt')
    .option('--regularization <C>', 'C of the L2 penalty on the slope: minimise 0.5*slope^2 + C*sum(w*logloss)', '10')
    .option('--bootstrap <n>', 'hierarchical bootstrap resamples (0 = no CIs)', '1000')
    .option('--seed <s>', 'bootstrap seed', '0')
    .option('--threshold <x>', 'success = score >= x, for rows with a score but no success field')
    .option('--agent <name>', 'only this agent (repeatable)', collect)
    .option('--plot <file.svg>', 'write the success-against-length plot as SVG')
    .option('--report <file.html>', 'write a self-contained HTML report (table and plot)')
    .option('--json', 'print a JSON array with one object per agent')
    .action(action(async (file: string, flags: HorizonFlags) => {
      if (!(weightingSchemes as readonly string[]).includes(flags.weights)) {
        throw new UsageError(`--weights must be one of ${weightingSchemes.join(', ')}, got '${flags.weights}'`);
      }
      const options: HorizonOptions = {
        weighting: flags.weights as WeightingScheme,
        inverseRegularization: parseNumber('regularization', flags.regularization, { min: Number.MIN_VALUE }),
        bootstrapCount: parseNumber('bootstrap', flags.bootstrap, { min: 0, max: 1_000_000, integer: true }),
        seed: parseNumber('seed', flags.seed, { min: 0, max: 2 ** 53 - 1, integer: true }),
      };
      const threshold = flags.threshold === undefined ? undefined : parseNumber('threshold', flags.threshold);
      let records: RunRecord[];
      let horizons: AgentHorizon[];
      try {
        records = readRunRecords(file, { threshold });
        if (flags.agent?.length) {
          const known = new Set(records.map((record) => record.agent));
          const missing = flags.agent.filter((agent) => !known.has(agent));
          if (missing.length) throw new UsageError(`no runs for agent ${missing.map((agent) => `'${agent}'`).join(', ')} in ${file}`);
          records = records.filter((record) => flags.agent!.includes(record.agent));
        }
        const showProgress = process.stderr.isTTY && options.bootstrapCount >= 100;
        horizons = computeHorizons(records, {
          ...options,
          onProgress: showProgress ? (done, total) => { if (done % 50 === 0 || done === total) process.stderr.write(`\rbootstrap ${done}/${total}${done === total ? '\n' : ''}`); } : undefined,
        });
      } catch (error) {
        if (error instanceof RecordsError) throw new UsageError(error.message.startsWith(file) ? error.message : `${file}: ${error.message}`);
        throw error;
      }
      if (flags.plot || flags.report) {
        const svg = await renderHorizonPlot(records, horizons);
        if (flags.plot) writeFileSync(flags.plot, svg);
        if (flags.report) writeFileSync(flags.report, renderHorizonReport({ source: file, horizons, options, svg }));
      }
      if (flags.json) process.stdout.write(`${JSON.stringify(horizons.map(horizonToJson))}\n`);
      else printText(horizons);
    }));
}
