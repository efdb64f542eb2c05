/**
 * The trainer's wall-clock limit (`maxSeconds`), kept within one step: before each step the loop asks whether that
 * step, and the validation that follows it (the periodic one, or the final one every run ends with), would still end
 * by the deadline, from the times of the steps and validations so far. Checking only "is time up?" let a run of
 * 9-second steps and a 12-second final validation stop 16 s late (`train --max-seconds 40` ran 56 s).
 * The first step always runs: it is what the estimate comes from. It also pays for warm-up (compilation, first
 * touches of memory: 3-4x a later step with the TypeScript kernels), so after it alone only the next step itself
 * has to fit; from the second step on, the step and the validation after it do. Is not: the loop (train.ts).
 */
export class StepDeadline {
  private readonly recentSteps: number[] = [];
  private stepsSeen = 0;
  private evaluationSeconds: number | null = null;

  /**
   * `evaluationBatches`: forward passes of one validation (its tokens over batch x sequence); until a validation
   * has been timed, each is priced at half a training step (a forward pass is about a third of one).
   */
  constructor(private readonly maxSeconds: number | undefined, private readonly evaluationBatches: number) {}

  recordStep(seconds: number): void {
    this.stepsSeen += 1;
    // The first step pays for warm-up (compilation, page faults): left out once later ones are known.
    if (this.stepsSeen === 2 && this.recentSteps.length === 1) this.recentSteps.length = 0;
    this.recentSteps.push(seconds);
    if (this.recentSteps.length > 3) this.recentSteps.shift();
  }

  recordEvaluation(seconds: number): void {
    this.evaluationSeconds = Math.max(this.evaluationSeconds ?? 0, seconds);
  }

  /** Whether one more step and the validation after it end by the deadline, `elapsedSeconds` into the run. */
  allowsStep(elapsedSeconds: number): boolean {
    if (this.maxSeconds === undefined) return true;
    if (elapsedSeconds >= this.maxSeconds) return false;
    if (this.recentSteps.length === 0) return true;
    const step = Math.max(...this.recentSteps);
    if (this.stepsSeen === 1) return elapsedSeconds + step <= this.maxSeconds; // a warm-up time is no estimate of the rest
    const evaluation = this.evaluationSeconds ?? this.evaluationBatches * step * 0.5;
    return elapsedSeconds + step + evaluation <= this.maxSeconds;
  }
}
