/** `successor show RUN|EXP`: one run with its experiments, or one experiment with its outcome, logs and diff. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ExperimentRow } from '../journal/journal.js';
import { pendingApprovals } from '../lab/control.js';
import { prunedOf } from '../lab/retention.js';
import { storedSummaryOf } from '../lab/summary.js';
import { isScored } from '../task/outcome.js';
import { action, formatNumber } from './common.js';
import { findExperiment, findRun, withJournal } from './lab-state.js';

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

export function register(program: Command): void {
  program
    .command('show')
    .description('show a run (its experiments and pending approvals) or one experiment')
    .argument('<id>', 'a run id (run_...) or an experiment id (exp_...)')
    .option('--json', 'print one JSON object')
    .action(
      action((id: string, flags: { json?: boolean }) =>
        withJournal((journal) => {
          const out = (line: string): void => {
            process.stdout.write(`${line}\n`);
          };
          if (id.startsWith('exp_')) {
            const experiment = findExperiment(journal, id);
            if (flags.json) return out(JSON.stringify(experiment));
            out(`experiment ${experiment.id} (#${experiment.seq} of ${experiment.runId}), ${experiment.role}, parent ${experiment.parentId ?? '-'}`);
            out(`change: ${experiment.description}`);
            out(`outcome: ${describeOutcome(experiment)}${experiment.accepted ? ' (accepted)' : ''}`);
            if (experiment.outcome?.metrics) out(`metrics: ${JSON.stringify(experiment.outcome.metrics)}`);
            if (experiment.metadata.gate) out(`gate: ${JSON.stringify(experiment.metadata.gate)}`);
            out(`started ${experiment.startedAt ?? '-'}, finished ${experiment.finishedAt ?? '-'}; logs ${experiment.logPath ?? '-'}`);
            out(`artifacts: ${describeArtifacts(experiment)}${typeof experiment.metadata.seed === 'number' ? `; harness seed ${experiment.metadata.seed}` : ''}`);
            const stdout = tailOf(experiment.logPath, 'stdout.log');
            if (stdout) out(`--- stdout (tail)\n${stdout}`);
            const stderr = tailOf(experiment.logPath, 'stderr.log', 10);
            if (stderr) out(`--- stderr (tail)\n${stderr}`);
            if (experiment.diff) out(`--- diff against the parent\n${experiment.diff.trimEnd()}`);
            return;
          }
          const run = findRun(journal, id);
          const experiments = journal.listExperiments(run.id);
          const pending = pendingApprovals(journal, run.id);
          const waitsTo = (experiment: ExperimentRow) => (experiment.state === 'awaiting-approval' ? 'run' : 'become the incumbent');
          if (flags.json) return out(JSON.stringify({ ...run, experiments, pendingApprovals: pending.map((experiment) => ({ id: experiment.id, waitsTo: waitsTo(experiment) })) }));
          out(`run ${run.id}: ${run.task}, researcher ${run.researcher}, generation ${run.generation}, ${run.status}${run.stopReason ? ` (${run.stopReason})` : ''}`);
          const summary = storedSummaryOf(run);
          if (summary.gain !== undefined && summary.gain !== null) {
            out(`baseline ${formatNumber(summary.baselineScore ?? NaN)}, best ${formatNumber(summary.bestScore ?? NaN)}, gain ${summary.gain.toFixed(2)}x${summary.gainCi95 ? ` (95% CI ${summary.gainCi95.map((value) => value.toFixed(2)).join('-')})` : ''}`);
          }
          for (const experiment of experiments) {
            out(`#${String(experiment.seq).padStart(3)} ${experiment.id} ${experiment.role.padEnd(9)} ${describeOutcome(experiment).slice(0, 80).padEnd(40)} ${experiment.accepted ? 'ACCEPTED ' : ''}${experiment.description}`);
          }
          if (pending.length) out(`pending approval: ${pending.map((experiment) => `${experiment.id} (#${experiment.seq}, to ${waitsTo(experiment)})`).join(', ')} — successor approve EXP | successor reject EXP --why TEXT`);
        }),
      ),
    );
}
