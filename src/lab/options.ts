/**
 * The options of a research run that the lab owns (not the researcher): budgets, the gate, parallelism, the
 * sandbox. One zod schema: every entry point (the CLI's research and mcp commands, benchmark suites) builds its
 * options through `parseRunOptions`, the journal stores what it returns, and the lab reads them back through
 * `optionsOf`, so a run's options have one shape from the flag to the row and back.
 * Is not: a stop request (an event of its own, src/lab/control.ts) nor the run's progress (summary.ts).
 */
import { z } from 'zod';
import type { RunRow } from '../journal/journal.js';
import { BadInputError, describeZodError } from '../task/errors.js';
import { ExperimentId } from '../task/ids.js';

export const GateOptions = z.object({
  /** Runs of the baseline that calibrate it (its mean and noise) before any candidate is screened. */
  repeats: z.number().int().min(2).max(20).default(3),
  /** The run's family-wise level: the probability of accepting any change with no real effect (gate.ts). */
  alpha: z.number().min(1e-6).max(0.5).default(0.05),
  /**
   * The smallest gain worth accepting (relative): screening asks for at least this, and the test asks for more.
   * 0 by default: the threshold comes from the measured noise, so a task near its ceiling can still get its last
   * small gains (0.972 to 0.995 accuracy is 2%); a user to whom small gains mean nothing sets `--min-gain`.
   */
  minRelativeGain: z.number().min(0).max(10).default(0),
  /** A screening run becomes a claim when it beats the incumbent by this many standard deviations of one run. */
  screeningSigmas: z.number().min(0).max(10).default(1),
  /** Pairs (claim, incumbent) a claim may take before the gate gives up on it; looks after 2, 3, ... of them. */
  maxPairs: z.number().int().min(2).max(20).default(8),
  /** Re-verify the incumbent (a pair against the incumbent it replaced) after this many candidates. */
  verifyEvery: z.number().int().min(1).default(4),
  /** Candidates are killed at capFactor x the incumbent's mean time (+ capSlackSeconds): slower is no gain. */
  capFactor: z.number().min(1).default(1.3),
  capSlackSeconds: z.number().min(0).default(3),
}).strict();
export type GateOptions = z.infer<typeof GateOptions>;

export const DEFAULT_GATE: GateOptions = GateOptions.parse({});

/** Finished experiments whose artifacts retention keeps besides the incumbent's, the accepted and the awaited ones. */
export const DEFAULT_KEEP_ARTIFACTS = 10;

export const ApprovalPolicy = z.enum(['auto', 'each', 'promote']);
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;

export const SandboxMode = z.enum(['auto', 'required', 'off']);
export type SandboxMode = z.infer<typeof SandboxMode>;

export const RunOptions = z.object({
  task: z.string().min(1),
  researcher: z.string().min(1),
  budgetSeconds: z.number().positive().nullable().default(null),
  /** Candidates the researcher may propose. */
  maxExperiments: z.number().int().positive().nullable().default(null),
  /** CPU-seconds of all sandboxed runs together (measured by the sandbox's cgroup when it can). */
  maxCpuSeconds: z.number().positive().nullable().default(null),
  /** `each`: every candidate waits for a human before it runs; `promote`: a new incumbent waits. */
  approval: ApprovalPolicy.default('auto'),
  parallel: z.number().int().min(1).max(64).default(1),
  seed: z.number().int().min(0).default(1),
  gate: GateOptions.prefault({}),
  sandboxMode: SandboxMode.default('auto'),
  /**
   * A run during which other work took more than this fraction of the cores the run was given is contended: it is
   * not counted and is made again (null: never). Measured by the harness (metrics.contention).
   */
  contentionLimit: z.number().min(0).max(1).nullable().default(0.25),
  /**
   * Stop a screening run early when its progress lines (tasks with run.progress; untrusted) fall behind the
   * incumbent's curve: it would only reach its cap later. Never a run the gate counts. `--no-early-stop` turns it off.
   */
  earlyStop: z.boolean().default(true),
  /** Start from what the journal knows about this task version (earlier runs' observations, their best configuration); `--fresh` turns it off. */
  usePrior: z.boolean().default(true),
  /** Artifacts kept besides the incumbent's, the accepted and the awaited ones: the last N finished (retention.ts). */
  keepArtifacts: z.number().int().min(0).default(DEFAULT_KEEP_ARTIFACTS),
  /** Generation runs: the experiment whose configuration is this run's baseline. */
  baseExperimentId: ExperimentId.nullable().default(null),
  /**
   * The researcher's own settings, kept so `--resume RUN` needs no flags (for llm: model, base URL, token and
   * dollar budgets, prices, streaming). Never secrets: API keys stay in the environment.
   */
  researcherSettings: z.record(z.string(), z.unknown()).optional(),
});
export type RunOptions = z.infer<typeof RunOptions>;
/** What an entry point gives: the task and researcher, and whatever it does not leave to the defaults. */
export type RunOptionsInput = z.input<typeof RunOptions>;

/** Run options that do not parse: one line naming each bad field, for the CLI's exit 2. */
export class RunOptionsError extends BadInputError {
  override name = 'RunOptionsError';
}

/** The one way into RunOptions: defaults filled in, every field checked. Throws RunOptionsError naming the fields. */
export function parseRunOptions(input: RunOptionsInput): RunOptions {
  const parsed = RunOptions.strict().safeParse(input);
  if (!parsed.success) throw new RunOptionsError(`invalid run options: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** A run's stored options, read back through the schema (keys an older lab stored and this one does not know are dropped). */
export function optionsOf(run: RunRow): RunOptions {
  const parsed = RunOptions.safeParse(run.options);
  if (!parsed.success) throw new RunOptionsError(`run ${run.id} has options this lab cannot read: ${describeZodError(parsed.error)}`);
  return parsed.data;
}
