/**
 * What the lab records about an experiment beside its outcome (the `metadata` column): why it ran, how the gate
 * decided, who approved it, which seed the harness gave it. A loose schema: the known fields are typed and checked
 * when a row is read, and a field an older or newer lab wrote is kept as it is.
 * Is not: the rules that set these fields (src/lab) nor the outcome (src/task/outcome.ts).
 */
import { z } from 'zod';

/** ISO-8601 UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
export const Timestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'an ISO-8601 UTC timestamp with milliseconds');

/** The gate's evidence for one claim: the test, its numbers and the samples it compared. */
export const GateRecord = z.looseObject({
  accepted: z.boolean(),
  detail: z.string(),
  incumbentId: z.string().optional(),
  incumbentSamples: z.array(z.number()).optional(),
  candidateSamples: z.array(z.number()).optional(),
  test: z.string().optional(),
  pValue: z.number().optional(),
  ratio: z.number().optional(),
  ratioCi95: z.tuple([z.number(), z.number()]).optional(),
  /** This claim's share of the run's level, the share spent at the deciding look, and the pairs it took. */
  level: z.number().optional(),
  lookLevel: z.number().optional(),
  pairs: z.number().optional(),
});
export type GateRecord = z.infer<typeof GateRecord>;

/** A baseline sample copied from an earlier run's calibration of the same task, workspace, machine and sandbox. */
export const CachedCalibration = z.looseObject({ key: z.string(), measuredAt: z.string(), runId: z.string() });

export const ExperimentMetadata = z.looseObject({
  /** A candidate whose first run beat the incumbent by enough to be worth repeating. */
  claim: z.boolean().optional(),
  /** When the gate (or a human, for a nominee) decided the claim. */
  decidedAt: Timestamp.optional(),
  gate: GateRecord.optional(),
  /** A nominee waiting for a human (`pending`), or the human's decision. */
  approval: z.enum(['pending', 'approved', 'rejected']).optional(),
  approvedBy: z.string().optional(),
  approvedAt: Timestamp.optional(),
  rejectedBy: z.string().optional(),
  rejectedAt: Timestamp.optional(),
  rejectedWhy: z.string().optional(),
  /** The seed the harness wrote into the run's config: drawn from a cryptographic source before the run (src/lab/seeds.ts). */
  seed: z.number().optional(),
  /** The wall-clock cap the run ran under. */
  capSeconds: z.number().optional(),
  cached: CachedCalibration.optional(),
  /** A cached sample that a fresh run contradicted: no longer counted. */
  stale: z.boolean().optional(),
  /** On the fresh run that checked a cached calibration: its verdict. */
  calibrationCheck: z.enum(['agrees', 'stale']).optional(),
  /** The journal events (model calls) that produced this proposal. */
  transcript: z.array(z.number()).optional(),
  /** A claim's screening: its gain over the incumbent (gain scale) against the threshold, and its rank among the run's claims. */
  screening: z.looseObject({ gain: z.number(), threshold: z.number() }).optional(),
  /**
   * A run made to confirm a claim or re-verify an incumbent: which experiment it serves (the claim, or the verified
   * incumbent), the pair's index, and its side: the `subject` (the claim; the verified incumbent) or the `reference`
   * it is measured against (the incumbent; the one the verified incumbent replaced).
   */
  pair: z.looseObject({ forId: z.string(), purpose: z.enum(['confirm', 'verify']), index: z.number().int().nonnegative(), side: z.enum(['reference', 'subject']) }).optional(),
  /** The run's own progress curve (harness seconds, the run's values; untrusted), thinned: the reference for early stops. */
  progress: z.array(z.tuple([z.number(), z.number()])).optional(),
  /** The machine was busy with other work during this run: not counted (the run is made again). */
  contended: z.boolean().optional(),
  /** A candidate the lab proposed itself: the best configuration an earlier run on this task version reached. */
  seededFrom: z.string().optional(),
  /** Retention removed this experiment's artifacts (src/lab/retention.ts); `artifactsPath` still says where they were. */
  artifactsPruned: z.looseObject({ at: Timestamp, keepLast: z.number().int() }).optional(),
  /** An accepted candidate whose re-verification showed it no better than what it replaced: no longer the incumbent. */
  demoted: z.looseObject({ at: Timestamp, reason: z.string() }).optional(),
});
export type ExperimentMetadata = z.infer<typeof ExperimentMetadata>;
