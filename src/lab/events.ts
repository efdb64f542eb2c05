/** What the loop tells its observers (the CLI's progress lines, the dashboard): the same facts it journals. */
import type { ExperimentRow } from '../journal/journal.js';

export type LabEvent =
  | { type: 'note'; message: string }
  | { type: 'experiment.started'; experiment: ExperimentRow; capSeconds: number | null }
  /**
   * A running experiment's own progress line (the last `step ... loss ...` it printed), as it ran `elapsedSeconds`.
   * Untrusted: the run wrote it; observers show it as the run's claim, never as the lab's measurement.
   */
  | { type: 'experiment.progress'; experiment: ExperimentRow; elapsedSeconds: number; line: string }
  | { type: 'experiment.finished'; experiment: ExperimentRow; best: number | null; budgetLeftSeconds: number | null }
  | { type: 'gate'; experiment: ExperimentRow; accepted: boolean; detail: string };

export type LabObserver = (event: LabEvent) => void;
