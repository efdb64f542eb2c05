/** Branded identifiers: a RunId cannot be passed where an ExperimentId is expected. */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const RunId = z.string().regex(/^run_[a-z0-9]{8,}$/, 'a run id looks like run_xxxxxxxx').brand<'RunId'>();
export type RunId = z.infer<typeof RunId>;
export const ExperimentId = z.string().regex(/^exp_[a-z0-9]{8,}$/, 'an experiment id looks like exp_xxxxxxxx').brand<'ExperimentId'>();
export type ExperimentId = z.infer<typeof ExperimentId>;

const randomSuffix = (): string => randomBytes(6).toString('hex');
export const newRunId = (): RunId => RunId.parse(`run_${randomSuffix()}`);
export const newExperimentId = (): ExperimentId => ExperimentId.parse(`exp_${randomSuffix()}`);
