/**
 * Artifact retention: after each experiment, a run's artifacts are pruned except the incumbent's, the accepted
 * ones, those a decision still waits on (a claim under repeats, a nominee awaiting a human) and the last N
 * finished (`keepArtifacts`, DEFAULT_KEEP_ARTIFACTS unless the run says otherwise). What is pruned is journaled:
 * one `artifacts.pruned` event per pass and `artifactsPruned` in each experiment's metadata (its `artifactsPath`
 * stays, saying where they were), so the CLI and the dashboard say "pruned" instead of pointing at nothing.
 * Logs are kept: they are small and they are the record. Not here: where artifacts come from (the executor).
 */
import type { ExperimentRow, Journal } from '../journal/journal.js';
import { removeTree } from '../sandbox/remove-tree.js';
import type { RunId } from '../task/ids.js';
import { latestIncumbent } from './lineage.js';
import { DEFAULT_KEEP_ARTIFACTS } from './options.js';

export { DEFAULT_KEEP_ARTIFACTS } from './options.js';

export interface Pruned {
  at: string;
  keepLast: number;
}

/** Whether the experiment's artifacts were pruned (and when), for the CLI and the dashboard. */
export const prunedOf = (experiment: ExperimentRow): Pruned | null => (experiment.metadata.artifactsPruned as Pruned | undefined) ?? null;

/** The experiments whose artifacts go now: finished, still holding artifacts, and kept for no reason above. */
export function prunable(experiments: readonly ExperimentRow[], keepLast: number): ExperimentRow[] {
  const holding = experiments.filter((experiment) => experiment.state === 'finished' && experiment.artifactsPath && !prunedOf(experiment));
  const incumbent = latestIncumbent(experiments, (experiment) => experiment.metadata.decidedAt);
  const recent = new Set([...experiments].filter((experiment) => experiment.state === 'finished').sort((left, right) => left.seq - right.seq).slice(-keepLast).map((experiment) => experiment.id));
  const awaited = (experiment: ExperimentRow) =>
    (experiment.metadata.claim === true && experiment.metadata.decidedAt === undefined) || experiment.metadata.approval === 'pending';
  return holding.filter((experiment) => experiment.id !== incumbent?.id && !experiment.accepted && !awaited(experiment) && !recent.has(experiment.id));
}

/** Prunes what `prunable` names for this run and journals it; returns the pruned experiments. */
export async function pruneArtifacts(journal: Journal, runId: RunId, keepLast: number = DEFAULT_KEEP_ARTIFACTS): Promise<ExperimentRow[]> {
  const doomed = prunable(journal.listExperiments(runId), keepLast);
  if (doomed.length === 0) return [];
  for (const experiment of doomed) await removeTree(experiment.artifactsPath!);
  const at = new Date().toISOString();
  return journal.transaction(() => {
    const rows = doomed.map((experiment) => {
      const latest = journal.getExperiment(experiment.id) ?? experiment;
      return journal.updateExperiment(experiment.id, { metadata: { ...latest.metadata, artifactsPruned: { at, keepLast } satisfies Pruned } });
    });
    journal.appendEvent(runId, 'artifacts.pruned', { experiments: doomed.map((experiment) => experiment.id), keepLast });
    return rows;
  });
}
