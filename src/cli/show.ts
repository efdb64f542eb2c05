/**
 * `successor show RUN|EXP`: one run with its experiments and what its model calls cost, or one experiment with its
 * outcome, logs, diff and cost; `show EXP --calls` prints the experiment's model calls as a transcript; `show RUN
 * --format tsv` one row per experiment, like autoresearch's results.tsv. Read-only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type ExperimentRow, type Journal, type RunRow, NO_USAGE, describeUsage, formatDollars } from '../journal/journal.js';
import { pendingApprovals } from '../lab/control.js';
import { prunedOf } from '../lab/retention.js';
import { storedSummaryOf } from '../lab/summary.js';
import { isScored } from '../task/outcome.js';
import { UsageError, action, formatNumber, formatRatio } from './common.js';
import { findExperiment, findRun, withJournal } from './lab-state.js';
import { type TableFormat, formatTable, parseTableFormat } from './tables.js';
import { formatTranscript, printable } from './transcript.js';

interface ShowFlags { json?: boolean; calls?: boolean; format: string }

export function describeOutcome(experiment: ExperimentRow): string {
  const outcome = experiment.outcome;
  if (!outcome) return experiment.state;
  return isScored(outcome) ? `${outcome.status} ${formatNumber(outcome.score)}` : `${outcome.status}: ${outcome.reason}`;
}

/** Where the artifacts are, or that retention pruned them. */
function describeArtifacts(experiment: ExperimentRow): string {
  const pruned = prunedOf(experiment);
  if (pruned) return `pruned ${pruned.at} (retention keeps the incumbent's, the accepted and the last ${pruned.keepLast}); they were at ${experiment.artifactsPath}`;
  return experiment.artifactsPath ?? 'none';
}

function tailOf(path: string | null, name: string, lines = 20): string {
  if (!path) return '';
  const file = join(path, name);
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '';
}

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** The experiment's model calls: the `llm.call` events its metadata lists. */
function callsOf(journal: Journal, experiment: ExperimentRow) {
  return journal.getEvents(experiment.metadata.transcript ?? []).filter((event) => event.type === 'llm.call' && event.runId === experiment.runId);
}

function showExperiment(journal: Journal, experiment: ExperimentRow, flags: ShowFlags): void {
  const calls = callsOf(journal, experiment);
  const usage = journal.modelUsage(experiment.runId).byExperiment.get(experiment.id) ?? NO_USAGE;
  if (flags.calls) {
    if (flags.json) return out(JSON.stringify({ experimentId: experiment.id, usage, calls }));
    process.stdout.write(formatTranscript(calls));
    return;
  }
  if (flags.json) return out(JSON.stringify({ ...experiment, usage }));
  out(`experiment ${experiment.id} (#${experiment.seq} of ${experiment.runId}), ${experiment.role}, parent ${experiment.parentId ?? '-'}`);
  out(`change: ${printable(experiment.description)}`);
  out(`outcome: ${describeOutcome(experiment)}${experiment.accepted ? ' (accepted)' : ''}`);
  if (experiment.outcome?.metrics) out(`metrics: ${JSON.stringify(experiment.outcome.metrics)}`);
  if (experiment.metadata.gate) out(`gate: ${JSON.stringify(experiment.metadata.gate)}`);
  if (usage.calls > 0) out(`model: ${describeUsage(usage)} (successor show ${experiment.id} --calls for the transcript)`);
  out(`started ${experiment.startedAt ?? '-'}, finished ${experiment.finishedAt ?? '-'}; logs ${experiment.logPath ?? '-'}`);
  out(`artifacts: ${describeArtifacts(experiment)}${typeof experiment.metadata.seed === 'number' ? `; harness seed ${experiment.metadata.seed}` : ''}`);
  const stdout = tailOf(experiment.logPath, 'stdout.log');
  if (stdout) out(`--- stdout (tail)\n${printable(stdout)}`);
  const stderr = tailOf(experiment.logPath, 'stderr.log', 10);
  if (stderr) out(`--- stderr (tail)\n${printable(stderr)}`);
  if (experiment.diff) out(`--- diff against the parent\n${printable(experiment.diff.trimEnd())}`);
}

const EXPERIMENT_COLUMNS = ['seq', 'experiment', 'parent', 'role', 'state', 'status', 'score', 'accepted', 'wall_seconds', 'peak_memory_mb',
  'model_calls', 'input_tokens', 'output_tokens', 'dollars', 'reason', 'description'] as const;

function experimentTable(format: Exclude<TableFormat, 'text'>, experiments: readonly ExperimentRow[], usage: Map<string, typeof NO_USAGE>): string {
  return formatTable(format, EXPERIMENT_COLUMNS, experiments.map((experiment) => {
    const outcome = experiment.outcome;
    const spent = usage.get(experiment.id) ?? NO_USAGE;
    const metric = (name: string) => (typeof outcome?.metrics?.[name] === 'number' ? outcome.metrics[name] as number : null);
    const peak = metric('peakMemoryBytes');
    return [
      experiment.seq, experiment.id, experiment.parentId, experiment.role, experiment.state, outcome?.status ?? null,
      outcome && isScored(outcome) ? outcome.score : null, experiment.accepted, metric('wallSeconds'), peak === null ? null : peak / 2 ** 20,
      spent.calls, spent.inputTokens, spent.outputTokens, spent.dollars, outcome && !isScored(outcome) ? outcome.reason : null, experiment.description,
    ];
  }));
}

function showRun(journal: Journal, run: RunRow, flags: ShowFlags, format: TableFormat): void {
  const experiments = journal.listExperiments(run.id);
  const usage = journal.modelUsage(run.id);
  if (format !== 'text') {
    process.stdout.write(experimentTable(format, experiments, usage.byExperiment));
    return;
  }
  const pending = pendingApprovals(journal, run.id);
  const waitsTo = (experiment: ExperimentRow) => (experiment.state === 'awaiting-approval' ? 'run' : 'become the incumbent');
  if (flags.json) {
    return out(JSON.stringify({
      ...run, usage: usage.total,
      experiments: experiments.map((experiment) => ({ ...experiment, usage: usage.byExperiment.get(experiment.id) ?? NO_USAGE })),
      pendingApprovals: pending.map((experiment) => ({ id: experiment.id, waitsTo: waitsTo(experiment) })),
    }));
  }
  out(`run ${run.id}: ${run.task}, researcher ${run.researcher}, generation ${run.generation}, ${run.status}${run.stopReason ? ` (${run.stopReason})` : ''}`);
  const summary = storedSummaryOf(run);
  if (summary.gain !== undefined && summary.gain !== null) {
    out(`baseline ${formatNumber(summary.baselineScore ?? NaN)}, best ${formatNumber(summary.bestScore ?? NaN)}, gain ${formatRatio(summary.gain)}x${summary.gainCi95 ? ` (95% CI ${summary.gainCi95.map(formatRatio).join('-')})` : ''}`);
  }
  if (usage.total.calls > 0) out(`model: ${describeUsage(usage.total)}`);
  for (const experiment of experiments) {
    const spent = usage.byExperiment.get(experiment.id);
    const cost = spent ? ` [${spent.calls} calls ${formatDollars(spent.dollars)}]` : '';
    out(`#${String(experiment.seq).padStart(3)} ${experiment.id} ${experiment.role.padEnd(9)} ${describeOutcome(experiment).slice(0, 80).padEnd(40)} ${experiment.accepted ? 'ACCEPTED ' : ''}${printable(experiment.description)}${cost}`);
  }
  if (pending.length) out(`pending approval: ${pending.map((experiment) => `${experiment.id} (#${experiment.seq}, to ${waitsTo(experiment)})`).join(', ')} — successor approve EXP | successor reject EXP --why TEXT`);
}

export function register(program: Command): void {
  program
    .command('show')
    .description('show a run (its experiments, pending approvals and model spend) or one experiment')
    .argument('<id>', 'a run id (run_...) or an experiment id (exp_...)')
    .option('--json', 'print one JSON object')
    .option('--calls', 'with an experiment: the transcript of the model calls that proposed it')
    .option('--format <format>', 'with a run: text | tsv | csv (one row per experiment)', 'text')
    .action(
      action((id: string, flags: ShowFlags) => {
        const format = parseTableFormat(flags.format);
        const experiment = id.startsWith('exp_');
        if (experiment && format !== 'text') throw new UsageError('--format tsv|csv lists a run\'s experiments: give a run id');
        if (!experiment && flags.calls) throw new UsageError('--calls shows one experiment\'s model calls: give an experiment id (exp_...)');
        return withJournal((journal) => {
          if (id.startsWith('exp_')) return showExperiment(journal, findExperiment(journal, id), flags);
          return showRun(journal, findRun(journal, id), flags, format);
        });
      }),
    );
}
