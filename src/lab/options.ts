/** The knobs of a research run that the lab owns (not the researcher): budgets, the gate, parallelism. */
export interface GateOptions {
  /** Runs per configuration compared by the gate (the first run plus repeats). */
  repeats: number;
  /** Significance level of the one-sided test. */
  alpha: number;
  /** A first run must beat the incumbent by this fraction before it is worth repeating (below the machine's noise a repeat rarely confirms). */
  minRelativeGain: number;
  /** Re-run the incumbent after this many candidates, so its samples track the machine's drift. */
  verifyEvery: number;
  /** Candidates are killed at capFactor x the incumbent's mean time (+ capSlackSeconds): slower is no gain. */
  capFactor: number;
  capSlackSeconds: number;
}

export const DEFAULT_GATE: GateOptions = {
  repeats: 3,
  alpha: 0.05,
  minRelativeGain: 0.1,
  verifyEvery: 8,
  capFactor: 1.3,
  capSlackSeconds: 3,
};

export type ApprovalPolicy = 'auto' | 'each' | 'promote';

export interface RunOptions {
  task: string;
  researcher: string;
  budgetSeconds: number | null;
  maxExperiments: number | null;
  /** CPU-seconds of all sandboxed runs together (measured by the sandbox's cgroup when it can). */
  maxCpuSeconds: number | null;
  /** `each`: every candidate waits for a human before it runs; `promote`: a new incumbent waits. */
  approval: ApprovalPolicy;
  parallel: number;
  seed: number;
  gate: GateOptions;
  sandboxMode: 'auto' | 'required' | 'off';
  /** Artifacts kept besides the incumbent's, the accepted and the awaited ones: the last N finished (retention.ts). */
  keepArtifacts?: number;
  /** Generation runs: the experiment whose configuration is this run's baseline. */
  baseExperimentId: string | null;
  /**
   * The researcher's own settings, kept so `--resume RUN` needs no flags (for llm: model, base URL, token and
   * dollar budgets, prices, streaming). Never secrets: API keys stay in the environment.
   */
  researcherSettings?: Record<string, unknown>;
}
