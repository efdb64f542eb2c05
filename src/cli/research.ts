/**
 * `successor research`: the product's main job. Runs the research loop on a task with a researcher under a
 * budget, prints live progress on stderr and the verified result on stdout (or one JSON object with --json).
 */
import type { Command } from 'commander';
import { type Journal, type RunRow, openJournal } from '../journal/journal.js';
import { journalPath, stateDir } from '../journal/paths.js';
import type { LabEvent } from '../lab/events.js';
import { DEFAULT_GATE, type RunOptions } from '../lab/options.js';
import { writeRunReport } from '../lab/report.js';
import { optionsOf } from '../lab/research.js';
import { DEFAULT_KEEP_ARTIFACTS } from '../lab/retention.js';
import { research } from '../lab/start.js';
import type { RunSummary } from '../lab/summary.js';
import { RunId } from '../task/ids.js';
import { isScored } from '../task/outcome.js';
import { LocalExecutor } from '../executor/local.js';
import type { Executor } from '../executor/types.js';
import { provideResearcher } from '../researcher/registry.js';
import { CommandFailure, UsageError, action, formatNumber, parseDurationSeconds, parseNumber } from './common.js';

interface ResearchFlags {
  task: string;
  researcher: string;
  budget?: string;
  maxExperiments?: string;
  maxCpu?: string;
  approval: string;
  parallel: string;
  seed: string;
  generations: string;
  repeats: string;
  alpha: string;
  sandbox: string;
  keepArtifacts?: string;
  resume?: string;
  executor: string;
  sharedDir?: string;
  quick?: boolean;
  json?: boolean;
  model?: string;
  baseUrl?: string;
  maxTokens?: string;
  maxDollars?: string;
  priceInput?: string;
  priceOutput?: string;
  stream?: boolean;
}

/**
 * With --researcher llm: builds the model-backed researcher from the flags (keys stay in this process's env).
 * The AI SDK and the queue client are imported only when asked for: they dominate the CLI's start-up time.
 */
async function provideLlm(flags: ResearchFlags, journal: Journal, resumed: RunRow | undefined): Promise<{ withdraw: () => void; settings?: Record<string, unknown> }> {
  const researcher = resumed ? resumed.researcher : flags.researcher;
  if (researcher !== 'llm') return { withdraw: () => {} };
  const { createLlmResearcher } = await import('../researcher/llm/create.js');
  const { ModelSpecError } = await import('../researcher/llm/models.js');
  const { usageOf } = await import('../researcher/llm/budget.js');
  // A resumed run keeps its stored settings (flags given now win) and counts its budgets on from what it spent.
  const stored = (resumed ? optionsOf(resumed).researcherSettings : undefined) ?? {};
  const spent = resumed ? usageOf(runChain(journal, resumed).flatMap((run) => journal.listEvents(run.id).filter((event) => event.type === 'llm.call').map((event) => event.payload))) : undefined;
  const price = (name: string, value?: string) => (value === undefined ? undefined : parseNumber(name, value, { min: 0 }));
  const given = {
    model: flags.model,
    baseUrl: flags.baseUrl,
    maxTokens: flags.maxTokens ? parseNumber('max-tokens', flags.maxTokens, { min: 1, integer: true }) + (spent ? spent.inputTokens + spent.outputTokens : 0) : undefined,
    maxDollars: flags.maxDollars ? parseNumber('max-dollars', flags.maxDollars, { min: 0 }) + (spent?.dollars ?? 0) : undefined,
    priceInput: price('price-input', flags.priceInput),
    priceOutput: price('price-output', flags.priceOutput),
    stream: flags.stream,
  };
  const settings = { ...stored, ...Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) } as Record<string, unknown>;
  if (typeof settings.model !== 'string') throw new UsageError('--researcher llm needs --model PROVIDER:MODEL (e.g. openai:gpt-4.1-mini, ollama:qwen2.5-coder:7b)');
  try {
    const created = createLlmResearcher({ ...(settings as { model: string }), alreadySpent: spent });
    return { withdraw: provideResearcher('llm', () => created), settings };
  } catch (error) {
    if (error instanceof ModelSpecError) throw new UsageError(error.message);
    throw error;
  }
}

/** A run and the runs of its earlier generations (one research command's model budget spans them all). */
function runChain(journal: Journal, run: RunRow): RunRow[] {
  const chain = [run];
  for (let parent = run.parentRunId; parent; ) {
    const row = journal.getRun(parent);
    if (!row) break;
    chain.push(row);
    parent = row.parentRunId;
  }
  return chain;
}

const formatSeconds = (seconds: number | null | undefined): string => (seconds === null || seconds === undefined ? '-' : `${formatNumber(seconds)}s`);

function progressLine(event: LabEvent): string | null {
  switch (event.type) {
    case 'note':
      return event.message;
    case 'experiment.started': {
      const { experiment } = event;
      const cap = event.capSeconds ? ` (cap ${formatNumber(event.capSeconds)}s)` : '';
      return `#${experiment.seq} ${experiment.role} ${experiment.description}${cap} ...`;
    }
    case 'experiment.finished': {
      const { experiment } = event;
      const outcome = experiment.outcome;
      const result = !outcome ? '?' : isScored(outcome) ? `${outcome.status} ${formatNumber(outcome.score)}` : `${outcome.status}: ${outcome.reason.slice(0, 120)}`;
      const claim = experiment.metadata.claim ? ' — claims a win, repeating' : '';
      const budget = event.budgetLeftSeconds === null ? '' : `, budget left ${Math.round(event.budgetLeftSeconds / 60)}m`;
      return `#${experiment.seq} ${experiment.role} ${experiment.description}: ${result}${claim} (best ${event.best === null ? '-' : formatNumber(event.best)}${budget})`;
    }
    case 'gate':
      return `#${event.experiment.seq} gate: ${event.accepted ? 'ACCEPTED' : 'rejected'} — ${event.detail}`;
  }
}

function printSummary(summary: RunSummary, reportPath: string, generation0: RunSummary | undefined): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`run: ${summary.runId} (${summary.task}, researcher ${summary.researcher}) — ${summary.stopReason}`);
  out(`experiments: ${summary.experiments} (${summary.candidates} candidates, ${summary.accepted} accepted) ${JSON.stringify(summary.outcomes)}`);
  out(`baseline: ${formatSeconds(summary.baselineScore)} over ${summary.baselineSamples.length} runs [${summary.baselineSamples.map(formatNumber).join(', ')}]`);
  out(`best: ${formatSeconds(summary.bestScore)} over ${summary.bestSamples.length} runs [${summary.bestSamples.map(formatNumber).join(', ')}] — ${summary.bestDescription}`);
  const ci = summary.gainCi95 ? ` (95% CI ${summary.gainCi95.map((value) => value.toFixed(2)).join('-')})` : '';
  out(`${summary.speedup !== undefined ? 'speedup' : 'gain'}: ${summary.gain === null ? '-' : `${summary.gain.toFixed(2)}x`}${ci}`);
  if (generation0 && generation0 !== summary && summary.gainOverGeneration0) {
    out(`over generation 0's baseline: ${summary.gainOverGeneration0.toFixed(2)}x`);
  }
  if (summary.bestChange) out(`winning change:\n${summary.bestChange.trimEnd()}`);
  out(`report: ${reportPath}`);
}

/** `--executor local` runs experiments here; `--executor redis://...` sends them to workers on other machines. */
async function createExecutor(flags: ResearchFlags, sandboxMode: RunOptions['sandboxMode']): Promise<Executor> {
  if (flags.executor === 'local') return LocalExecutor.create(sandboxMode, stateDir());
  if (!flags.executor.startsWith('redis://')) throw new UsageError(`--executor must be local or redis://HOST:PORT, got '${flags.executor}'`);
  const { QueueExecutor } = await import('../executor/queue.js');
  return QueueExecutor.create({ redisUrl: flags.executor, stateDir: stateDir(), sharedDir: flags.sharedDir }).catch((error: Error) => {
    throw new CommandFailure(error.message);
  });
}

export function register(program: Command): void {
  program
    .command('research')
    .description('run the research loop: a researcher proposes, the lab runs, gates and records')
    .option('--task <name|dir>', 'built-in task name or task folder', 'lm-speedrun')
    .option('--researcher <name>', 'search | search:evolution | replay:FILE | llm', 'search')
    .option('--model <provider:model>', 'with --researcher llm: openai:MODEL, anthropic:MODEL, ollama:MODEL, llamacpp:, lmstudio:, vllm:, openrouter:, compatible:')
    .option('--base-url <url>', 'with --researcher llm: the server of an OpenAI-compatible or proxied provider')
    .option('--max-tokens <n>', 'with --researcher llm: stop proposing after this many model tokens')
    .option('--max-dollars <d>', 'with --researcher llm: stop proposing after this much model spend')
    .option('--price-input <d>', 'with --researcher llm: dollars per million input tokens (overrides the table)')
    .option('--price-output <d>', 'with --researcher llm: dollars per million output tokens')
    .option('--stream', 'with --researcher llm: stream model responses')
    .option('--budget <duration>', 'wall-clock budget per generation, e.g. 20m (default: none)')
    .option('--max-experiments <n>', 'candidates per generation')
    .option('--max-cpu <duration>', 'CPU time of all sandboxed runs together, e.g. 2h')
    .option('--approval <policy>', 'auto | each (every candidate waits for a human) | promote (a new incumbent waits)', 'auto')
    .option('--parallel <n>', 'experiments at once', '1')
    .option('--seed <n>', 'seed of the researcher and the harness', '1')
    .option('--generations <n>', 'adopt each run\'s best as the next run\'s baseline, this many times', '1')
    .option('--repeats <n>', 'runs per configuration compared by the gate', String(DEFAULT_GATE.repeats))
    .option('--alpha <p>', 'significance level of the gate', String(DEFAULT_GATE.alpha))
    .option('--sandbox <mode>', 'auto | required | off', 'auto')
    .option('--keep-artifacts <n>', `artifacts kept besides the incumbent's and the accepted ones: the last N experiments' (default ${DEFAULT_KEEP_ARTIFACTS})`)
    .option('--resume <run>', 'continue a stopped or killed run')
    .option('--executor <where>', 'local | redis://HOST:PORT (experiments go to `successor worker`s)', 'local')
    .option('--shared-dir <dir>', 'with a redis executor: a folder all machines mount, for logs and artifacts')
    .option('--quick', 'the short run `npm start` makes: lm-speedrun-quick with a 10 minute budget')
    .option('--json', 'print the final summary as one JSON object')
    .action(
      action(async (flags: ResearchFlags) => {
        if (!['auto', 'required', 'off'].includes(flags.sandbox)) throw new UsageError(`--sandbox must be auto, required or off, got '${flags.sandbox}'`);
        if (!['auto', 'each', 'promote'].includes(flags.approval)) throw new UsageError(`--approval must be auto, each or promote, got '${flags.approval}'`);
        const quick = flags.quick === true;
        const options: RunOptions = {
          task: quick && flags.task === 'lm-speedrun' ? 'lm-speedrun-quick' : flags.task,
          researcher: flags.researcher,
          budgetSeconds: flags.budget ? parseDurationSeconds('budget', flags.budget) : quick ? 600 : null,
          maxExperiments: flags.maxExperiments ? parseNumber('max-experiments', flags.maxExperiments, { min: 1, integer: true }) : null,
          maxCpuSeconds: flags.maxCpu ? parseDurationSeconds('max-cpu', flags.maxCpu) : null,
          approval: flags.approval as RunOptions['approval'],
          parallel: parseNumber('parallel', flags.parallel, { min: 1, max: 64, integer: true }),
          seed: parseNumber('seed', flags.seed, { min: 0, integer: true }),
          gate: {
            ...DEFAULT_GATE,
            repeats: parseNumber('repeats', flags.repeats, { min: 2, max: 20, integer: true }),
            alpha: parseNumber('alpha', flags.alpha, { min: 1e-6, max: 0.5 }),
          },
          sandboxMode: flags.sandbox as RunOptions['sandboxMode'],
          baseExperimentId: null,
          ...(flags.keepArtifacts ? { keepArtifacts: parseNumber('keep-artifacts', flags.keepArtifacts, { min: 0, integer: true }) } : {}),
        };
        if (options.budgetSeconds === null && options.maxExperiments === null && !flags.resume) {
          throw new UsageError('give a budget: --budget DURATION and/or --max-experiments N');
        }
        const resume = flags.resume ? RunId.safeParse(flags.resume) : undefined;
        if (resume && !resume.success) throw new UsageError(`--resume needs a run id like run_xxxxxxxxxxxx, got '${flags.resume}'`);
        const journal = openJournal(journalPath());
        let withdrawLlm = () => {};
        let executor: Executor;
        try {
          const resumed = resume ? journal.getRun(resume.data) : undefined;
          if (resume && !resumed) throw new UsageError(`no run ${resume.data} in ${journalPath()}`);
          const llm = await provideLlm(flags, journal, resumed);
          withdrawLlm = llm.withdraw;
          if (llm.settings) options.researcherSettings = llm.settings;
          executor = await createExecutor(flags, options.sandboxMode);
        } catch (error) {
          withdrawLlm();
          journal.close();
          throw error;
        }
        const description = await executor.describe();
        const controller = new AbortController();
        const onSignal = () => {
          process.stderr.write('\nstopping: killing running experiments; resume with `successor research --resume RUN`\n');
          controller.abort();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const result = await research(
            { journal, executor, stateDir: stateDir(), signal: controller.signal, observe: (event) => {
              const line = progressLine(event);
              if (line) process.stderr.write(`${line}\n`);
            } },
            {
              options,
              generations: parseNumber('generations', flags.generations, { min: 1, max: 100, integer: true }),
              resume: resume?.data,
              resumeGiven: {
                budget: flags.budget !== undefined, maxExperiments: flags.maxExperiments !== undefined, maxCpu: flags.maxCpu !== undefined, parallel: flags.parallel !== '1',
                researcherSettings: options.researcherSettings !== undefined,
              },
            },
            (run) => {
              process.stderr.write(`run ${run.id}: task ${run.task}, generation ${run.generation}, researcher ${run.researcher}, sandbox ${description.sandbox}\n`);
              for (const missing of description.missing) process.stderr.write(`WARNING: not enforced: ${missing}\n`);
            },
          ).catch((error: unknown) => {
            // The model's server failed for good (retries spent, bad key): the run is resumable once it is back.
            if (error instanceof Error && error.name === 'ModelCallError') throw new CommandFailure(`${error.message}; resume with --resume RUN once the model answers`);
            throw error;
          });
          const reports = await Promise.all(result.runs.map((summary) => writeRunReport(journal, summary.runId as RunId, stateDir())));
          const last = result.runs.at(-1);
          if (!last) return 1;
          if (flags.json) {
            process.stdout.write(`${JSON.stringify({ ...last, generations: result.runs.map((summary) => ({ runId: summary.runId, bestScore: summary.bestScore, gain: summary.gain, gainOverGeneration0: summary.gainOverGeneration0 ?? summary.gain })), report: reports.at(-1) })}\n`);
          } else {
            printSummary(last, reports.at(-1) ?? '', result.runs[0]);
          }
          // Stopped (Ctrl-C here, or `successor stop` from another terminal): not finished, and resumable.
          const stoppedRun = journal.getRun(last.runId as RunId);
          if (stoppedRun?.status === 'stopped') {
            if (!controller.signal.aborted) process.stderr.write(`${stoppedRun.stopReason}; resume with \`successor research --resume ${stoppedRun.id}\`\n`);
            return 1;
          }
          return 0;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          withdrawLlm();
          await executor.close();
          journal.close();
        }
      }),
    );
}
