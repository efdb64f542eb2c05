/**
 * The harness seed of every run: drawn from a cryptographic source, never derived from the run's `--seed` or the
 * attempt number, so the code under test cannot tell a candidate's first run from its repeats (or predict any seed
 * from the ones it saw). The seed is recorded in the experiment's metadata before the run starts (execute1 writes
 * `metadata.seed` with the `running` state), a killed run that resumes the experiment reuses the recorded one, and
 * the journal keeps every seed, so any run can be reproduced from it.
 * Not here: the researcher's seed and the gate's bootstrap seed (the run's `--seed`: the lab's own choices).
 */
import { randomInt } from 'node:crypto';
import type { ExperimentRow } from '../journal/journal.js';

/** Seeds lie in [1, 2^31 - 1): an int every trainer's config accepts. */
export const HARNESS_SEED_LIMIT = 2 ** 31 - 1;

/** The seed recorded for this experiment (a resumed run), or a fresh one to record. */
export function harnessSeedOf(experiment: ExperimentRow): number {
  const recorded = experiment.metadata.seed;
  if (typeof recorded === 'number' && Number.isSafeInteger(recorded) && recorded >= 0) return recorded;
  return randomInt(1, HARNESS_SEED_LIMIT);
}
