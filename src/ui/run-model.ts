/**
 * What the dashboard shows of a run, derived from its experiment lines: best and baseline scores, the gain
 * (speedup for seconds), budget used, model spend, the experiment tree in display order, and the chart's points as compact
 * arrays. The lab's own rules (src/lab/lineage.ts: the incumbent, what a repeat is a sample of), applied to compact
 * lines instead of full rows. Not the HTTP routes.
 */
import { type ModelUsage, NO_USAGE, type RunRow } from '../journal/journal.js';
import { latestIncumbent, mean, subjectOf } from '../lab/lineage.js';
import { RunOptions } from '../lab/options.js';
import { storedSummaryOf } from '../lab/summary.js';
import { isScoredStatus } from '../task/outcome.js';
import { loadTask } from '../task/loader.js';
import type { ExperimentLine } from '../journal/views.js';

export type Direction = 'minimize' | 'maximize';

export interface RunView {
  id: string; task: string; researcher: string; status: RunRow['status']; generation: number; parentRunId: string | null;
  stopReason: string | null; createdAt: string; updatedAt: string; metric: string; direction: Direction;
  experiments: number; candidates: number; accepted: number; failed: number; pending: number;
  baselineScore: number | null; bestScore: number | null; bestExperimentId: string | null; bestDescription: string | null;
  /** Baseline over best when minimising, best over baseline when maximising; from the run's summary once it has one. */
  gain: number | null; gainCi95: [number, number] | null; isSpeedup: boolean;
  budget: { fraction: number | null; text: string };
  /** What the run's model calls cost (zeros for a researcher without a model). */
  model: ModelUsage;
}


/** Scores per subject (an experiment and its repeats/verifications), as the lab's samplesOf counts them. */
function samplesBySubject(lines: readonly ExperimentLine[]): Map<string, number[]> {
  const samples = new Map<string, number[]>();
  for (const line of lines) {
    const subject = subjectOf(line);
    if (line.score === null || subject === null || line.state !== 'finished' || !isScoredStatus(line.status) || line.stale) continue;
    const list = samples.get(subject) ?? [];
    list.push(line.score);
    samples.set(subject, list);
  }
  return samples;
}

export function incumbentLine(lines: readonly ExperimentLine[]): ExperimentLine | undefined {
  return latestIncumbent(lines, (line) => line.decidedAt);
}

/** The budget fields of a run's options (older or hand-made rows may lack the rest). */
const BudgetOptions = RunOptions.pick({ budgetSeconds: true, maxExperiments: true }).partial();

const taskInfo = new Map<string, { metric: string; direction: Direction; wallSeconds: boolean }>();

/** The task's metric, read once per folder; a task that no longer loads falls back to what the summary recorded. */
function metricOf(run: RunRow): { metric: string; direction: Direction; wallSeconds: boolean } {
  const summary = storedSummaryOf(run);
  if (summary.metric && summary.direction) return { metric: summary.metric, direction: summary.direction, wallSeconds: summary.speedup !== undefined };
  let info = taskInfo.get(run.taskDir);
  if (!info) {
    try {
      const task = loadTask(run.taskDir);
      info = { metric: task.file.metric.name, direction: task.file.metric.direction, wallSeconds: task.file.metric.source === 'wall-seconds' };
    } catch {
      info = { metric: 'score', direction: 'minimize', wallSeconds: false };
    }
    taskInfo.set(run.taskDir, info);
  }
  return info;
}

function budgetOf(run: RunRow, candidates: number, nowMs: number): RunView['budget'] {
  const parsed = BudgetOptions.safeParse(run.options);
  const options = parsed.success ? parsed.data : {};
  const summary = storedSummaryOf(run);
  const elapsed = run.status === 'running'
    ? (summary.elapsedSeconds ?? 0) + Math.max(0, (nowMs - Date.parse(run.updatedAt)) / 1000)
    : (summary.elapsedSeconds ?? 0);
  const parts: string[] = [];
  const fractions: number[] = [];
  if (typeof options.budgetSeconds === 'number' && options.budgetSeconds > 0) {
    fractions.push(elapsed / options.budgetSeconds);
    parts.push(`${Math.round(elapsed)} of ${Math.round(options.budgetSeconds)} s`);
  } else {
    parts.push(`${Math.round(elapsed)} s`);
  }
  if (typeof options.maxExperiments === 'number' && options.maxExperiments > 0) {
    fractions.push(candidates / options.maxExperiments);
    parts.push(`${candidates} of ${options.maxExperiments} candidates`);
  }
  return { fraction: fractions.length ? Math.min(1, Math.max(...fractions)) : null, text: parts.join(' · ') };
}

export function runView(run: RunRow, lines: readonly ExperimentLine[], nowMs = Date.now(), model: ModelUsage = NO_USAGE): RunView {
  const { metric, direction, wallSeconds } = metricOf(run);
  const samples = samplesBySubject(lines);
  const baseline = lines.find((line) => line.role === 'baseline');
  const best = incumbentLine(lines);
  const meanOf = (id: string): number | null => (samples.get(id)?.length ? mean(samples.get(id)!) : null);
  const baselineScore = baseline ? meanOf(baseline.id) : null;
  const bestScore = best ? meanOf(best.id) : null;
  const summary = storedSummaryOf(run);
  let gain: number | null = summary.gain ?? null;
  if (gain === null && baselineScore !== null && bestScore !== null && baselineScore > 0 && bestScore > 0) {
    gain = direction === 'minimize' ? baselineScore / bestScore : bestScore / baselineScore;
  }
  const candidates = lines.filter((line) => line.role === 'candidate').length;
  return {
    id: run.id, task: run.task, researcher: run.researcher, status: run.status, generation: run.generation, parentRunId: run.parentRunId,
    stopReason: run.stopReason, createdAt: run.createdAt, updatedAt: run.updatedAt, metric, direction,
    experiments: lines.length, candidates,
    accepted: lines.filter((line) => line.accepted && line.role === 'candidate').length,
    failed: lines.filter((line) => line.status !== null && line.status !== 'ok' && line.status !== 'suspect').length,
    pending: lines.filter((line) => line.state === 'awaiting-approval' || line.approval === 'pending').length,
    baselineScore, bestScore, bestExperimentId: best?.id ?? null, bestDescription: best?.description ?? null,
    gain, gainCi95: summary.gainCi95 ?? null, isSpeedup: wallSeconds,
    budget: budgetOf(run, candidates, nowMs),
    model,
  };
}

/** Point kinds of the score chart, as small integers in the compact arrays. */
export const POINT_KINDS = ['baseline', 'accepted', 'rejected', 'repeat', 'failed'] as const;

export function pointKind(line: ExperimentLine): number {
  if (line.status !== 'ok' && line.status !== 'suspect') return 4;
  if (line.role === 'baseline') return 0;
  if (line.role !== 'candidate') return 3;
  return line.accepted ? 1 : 2;
}

/** Finished experiments as parallel arrays (seq, score or null for failures, kind), by seq. */
export function chartPoints(lines: readonly ExperimentLine[]): { seq: number[]; score: (number | null)[]; kind: number[] } {
  const points = { seq: [] as number[], score: [] as (number | null)[], kind: [] as number[] };
  for (const line of lines) {
    if (line.state !== 'finished' || line.status === 'rejected') continue;
    points.seq.push(line.seq);
    points.score.push(line.score);
    points.kind.push(pointKind(line));
  }
  return points;
}

/** Depth-first order of the parent links (children by seq), with each line's depth: the experiment tree as rows. */
export function treeOrder(lines: readonly ExperimentLine[]): { line: ExperimentLine; depth: number }[] {
  const known = new Set(lines.map((line) => line.id));
  const children = new Map<string | null, ExperimentLine[]>();
  for (const line of lines) {
    // A parent in another run (a generation's baseline) or missing makes the line a root here.
    const parent = line.parentId !== null && known.has(line.parentId) ? line.parentId : null;
    const list = children.get(parent) ?? [];
    list.push(line);
    children.set(parent, list);
  }
  const ordered: { line: ExperimentLine; depth: number }[] = [];
  const stack: { line: ExperimentLine; depth: number }[] = (children.get(null) ?? []).map((line) => ({ line, depth: 0 })).reverse();
  while (stack.length > 0) {
    const item = stack.pop()!;
    ordered.push(item);
    const below = children.get(item.line.id) ?? [];
    for (let index = below.length - 1; index >= 0; index--) stack.push({ line: below[index], depth: item.depth + 1 });
  }
  return ordered;
}
