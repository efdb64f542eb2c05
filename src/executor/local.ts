/**
 * The local executor: runs experiments on this machine through the trusted harness and its sandbox.
 * Parallelism is the loop's business (`--parallel`); this only prepares each task once and runs jobs.
 */
import { join } from 'node:path';
import { createSandbox } from '../sandbox/create-sandbox.js';
import { removeTree } from '../sandbox/remove-tree.js';
import { privateFolder } from '../sandbox/sandbox-user.js';
import { PROTECTION_DESCRIPTIONS, type Sandbox, type SandboxMode } from '../sandbox/types.js';
import { type ExperimentResult, runExperiment } from '../task/harness.js';
import { type Task, loadTask } from '../task/loader.js';
import { machineFlops } from '../task/machine.js';
import { type PreparedTask, prepareTask } from '../task/prepare.js';
import type { Executor, ExperimentJob, ProgressListener } from './types.js';

export class LocalExecutor implements Executor {
  readonly kind = 'local';
  private readonly tasks = new Map<string, Promise<{ task: Task; prepared: PreparedTask }>>();

  private constructor(private readonly sandbox: Sandbox, private readonly stateDir: string) {}

  static async create(mode: SandboxMode, stateDir: string): Promise<LocalExecutor> {
    return new LocalExecutor(await createSandbox(mode), stateDir);
  }

  async describe(): Promise<{ sandbox: string; missing: string[]; notes: string[] }> {
    return { sandbox: this.sandbox.kind, missing: this.sandbox.missing.map((protection) => PROTECTION_DESCRIPTIONS[protection]), notes: [...this.sandbox.notes] };
  }

  private taskFor(job: ExperimentJob): Promise<{ task: Task; prepared: PreparedTask }> {
    let entry = this.tasks.get(job.taskDir);
    if (!entry) {
      entry = (async () => {
        const task = loadTask(job.taskDir);
        return { task, prepared: await prepareTask(task, this.stateDir, this.sandbox) };
      })();
      this.tasks.set(job.taskDir, entry);
    }
    return entry;
  }

  async run(job: ExperimentJob, signal: AbortSignal, onProgress?: ProgressListener): Promise<ExperimentResult> {
    const { task, prepared } = await this.taskFor(job);
    const machine = await machineFlops(this.stateDir);
    const scratchDir = join(privateFolder(join(this.stateDir, 'scratch')), job.experimentId);
    try {
      return await runExperiment({
        task,
        prepared,
        sandbox: this.sandbox,
        lineage: job.lineage,
        experimentDir: join(this.stateDir, 'experiments', job.experimentId),
        scratchDir,
        stagedDataDir: join(privateFolder(join(this.stateDir, 'staged')), job.experimentId),
        machineFlops: machine.peakFlops,
        wallSecondsCap: job.capSeconds,
        seed: job.seed,
        signal,
        earlyStop: job.earlyStop,
        onProgress,
      });
    } finally {
      await removeTree(scratchDir); // the run shaped it: any depth, any width
    }
  }

  async close(): Promise<void> {}
}
