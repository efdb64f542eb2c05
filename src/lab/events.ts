/** What the loop tells its observers (the CLI's progress lines, the dashboard): the same facts it journals. */
import type { ExperimentRow } from '../journal/journal.js';

export type LabEvent =
  | { type: 'note'; message: string }
  | { type: 'experiment.started'; experiment: ExperimentRow; capSeconds: number | null }
  | { type: 'experiment.finished'; experiment: ExperimentRow; best: number | null; budgetLeftSeconds: number | null }
  | { type: 'gate'; experiment: ExperimentRow; accepted: boolean; detail: string }
  /** A progress line of a running experiment: the run's own claim (untrusted), with the harness's elapsed seconds. */
  | { type: 'experiment.progress'; experiment: ExperimentRow; elapsedSeconds: number; line: string };

export type LabObserver = (event: LabEvent) => void;
