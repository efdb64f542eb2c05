/**
 * `successor research`: the product's main job. Runs the research loop on a task with a researcher under a
 * budget, prints live progress on stderr and the verified result on stdout (or one JSON object with --json).
 */
import type { Command } from 'commander';
import { journalPath, stateDir } from '../journal/paths.js';
import { DEFAULT_GATE, RunOptionsError, type SandboxMode, type RunOptions, type RunOptionsInput, optionsOf, parseRunOptions } from '../lab/options.js';
import { writeRunReport } from '../lab/report.js';
import { type ResearchRequest, research } from '../lab/start.js';
import { DEFAULT_KEEP_ARTIFACTS } from '../lab/retention.js';
import type { RunSummary } from '../lab/summary.js';
import { resolveEnvironment } from '../task/environment.js';
import { FailureError } from '../task/errors.js';
import { loadTask } from '../task/loader.js';
import { RunId } from '../task/ids.js';
import type { Executor } from '../executor/types.js';
import { type Journal, type ModelUsage, describeUsage } from '../journal/journal.js';
import type { Researcher } from '../researcher/types.js';
import { CommandFailure, UsageError, action, formatNumber, formatRatio, parseDurationSeconds, parseNumber } from './common.js';
import { CONTENTION_FLAG, type LlmFlags, SANDBOX_FLAG, composeResearcher, createExecutor, openLabJournal, parseContentionLimit, parseSandboxMode } from './compose.js';
import { openExistingJournal } from './lab-state.js';
import { LiveProgress } from './progress.js';
import { layerFlags, readRunConfig } from './run-config.js';

/** The command's flags; the llm researcher's own come from compose.ts (`--model` may be given more than once). */
interface ResearchFlags extends LlmFlags {
  config?: string;
  task: string;
  researcher: string;
  budget?: string;
  maxExperiments?: string;
  maxCpu?: string;
  approval: string;
  parallel: string;
  probes: string;
  probeSeconds: string;
  seed: string;
  generations: string;
  repeats: string;
  alpha: string;
  minGain: string;
  sandbox: string;
  keepArtifacts?: string;
  resume?: string;
  executor: string;
  sharedDir?: string;
  quick?: boolean;
  fresh?: boolean;
  earlyStop?: boolean;
  contentionLimit?: string;
  json?: boolean;
  model?: string[];
}

const formatSeconds = (seconds: number | null | undefined): string => (seconds === null || seconds === undefined ? '-' : `${formatNumber(seconds)}s`);

function printSummary(summary: RunSummary, reportPath: string, generation0: RunSummary | undefined, model: ModelUsage): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`run: ${summary.runId} (${summary.task}, researcher ${summary.researcher}) — ${summary.stopReason}`);
  out(`experiments: ${summary.experiments} (${summary.candidates} candidates, ${summary.accepted} accepted) ${JSON.stringify(summary.outcomes)}`);
  out(`baseline: ${formatSeconds(summary.baselineScore)} over ${summary.baselineSamples.length} runs [${summary.baselineSamples.map(formatNumber).join(', ')}]`);
  const failed = summary.bestFailedRuns ? `, ${summary.bestFailedRuns} more failed` : '';
  out(`best: ${formatSeconds(summary.bestScore)} over ${summary.bestSamples.length} runs [${summary.bestSamples.map(formatNumber).join(', ')}]${failed} — ${summary.bestDescription}`);
  const ci = summary.gainCi95 ? ` (95% CI ${summary.gainCi95.map(formatRatio).join('-')})` : '';
  const verdict = summary.accepted === 0 ? ' — nothing accepted' : '';
  out(`${summary.speedup !== undefined ? 'speedup' : 'gain'}: ${summary.gain === null ? '-' : `${formatRatio(summary.gain)}x`}${ci}${verdict}`);
  if (generation0 && generation0 !== summary && summary.gainOverGeneration0) {
    out(`over generation 0's baseline: ${formatRatio(summary.gainOverGeneration0)}x`);
  }
  if (summary.timeSpent) {
    const { calibrating, screening, confirming, reverifying } = summary.timeSpent;
    out(`time: calibrating ${formatSeconds(calibrating)}, screening ${formatSeconds(screening)}, confirming ${formatSeconds(confirming)}, re-verifying ${formatSeconds(reverifying)}`);
  }
  for (const demotion of summary.demoted ?? []) out(`demoted: ${demotion}`);
  for (const note of summary.notes ?? []) out(`note: ${note}`);
  if (model.calls > 0) out(`model: ${describeUsage(model)}`);
  if (summary.bestChange) out(`winning change:\n${summary.bestChange.trimEnd()}`);
  out(`report: ${reportPath}`);
}

/** Commander's way to take a flag more than once: each value is added to the list. */
export const collectValues = (value: string, previous: string[]): string[] => [...previous, value];

interface Prepared { journal: Journal; researcher: Researcher; request: ResearchRequest; executor: Executor }

/** A new run: researcher and executor first, the journal last, so a refusal on the way leaves no state behind. */
async function startRun(options: RunOptions, flags: ResearchFlags, sandboxMode: SandboxMode, generations: number): Promise<Prepared> {
  const composed = await composeResearcher(options.researcher, options.seed, undefined, flags, undefined, options.researcherSettings);
  const request: ResearchRequest = { options: { ...options, ...(composed.settings ? { researcherSettings: composed.settings } : {}) }, generations };
  const executor = await createExecutor(flags.executor, sandboxMode, flags.sharedDir);
  try {
    return { journal: openLabJournal(), researcher: composed.researcher, request, executor };
  } catch (error) {
    await executor.close();
    throw error;
  }
}

/** A stopped or killed run, continued: its journal must exist already; budgets given again extend it. */
async function resumeRun(runId: RunId, flags: ResearchFlags, sandboxMode: SandboxMode, generations: number,
  given: { budgetSeconds: number | null; maxExperiments: number | null; maxCpuSeconds: number | null; parallel: number }): Promise<Prepared> {
  const journal = openExistingJournal({ writable: true });
  try {
    const resumed = journal.getRun(runId);
    if (!resumed) throw new UsageError(`no run ${runId} in ${journalPath()}`);
    const composed = await composeResearcher(resumed.researcher, optionsOf(resumed).seed, journal, flags, resumed);
    const request: ResearchRequest = { resume: runId, generations, overrides: {
      budgetSeconds: flags.budget ? given.budgetSeconds ?? undefined : undefined, maxExperiments: given.maxExperiments ?? undefined,
      maxCpuSeconds: given.maxCpuSeconds ?? undefined, parallel: flags.parallel !== '1' ? given.parallel : undefined, researcherSettings: composed.settings,
    } };
    const executor = await createExecutor(flags.executor, sandboxMode, flags.sharedDir);
    return { journal, researcher: composed.researcher, request, executor };
  } catch (error) {
    journal.close();
    throw error;
  }
}

export function register(program: Command): void {
  program
    .command('research')
    .description('run the research loop: a researcher proposes, the lab runs, gates and records')
    .option('--config <file>', 'run options from a JSON or YAML file: the keys of a run\'s options (task, researcher, budgetSeconds, maxExperiments, gate: {alpha, repeats}, researcherSettings: {model}, ...); flags given here win')
    .option('--task <name|dir>', 'built-in task name or task folder', 'lm-speedrun')
    .option('--researcher <name>', 'search | search:evolution | replay:FILE | llm', 'search')
    .option('--model <provider:model>', 'with --researcher llm: openai:MODEL, anthropic:MODEL, ollama:MODEL, llamacpp:, lmstudio:, vllm:, openrouter:, compatible:; give it again for several models (a bandit picks one per proposal)', collectValues, [])
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
    .option('--parallel <n>', 'experiments at once (proposals are made while others run)', '1')
    .option('--probes <n>', 'probes (short sandboxed trials) a researcher may make per proposal', '3')
    .option('--probe-seconds <s>', 'wall-clock cap of one probe', '20')
    .option('--seed <n>', 'seed of the researcher and the harness', '1')
    .option('--generations <n>', 'adopt each run\'s best as the next run\'s baseline, this many times', '1')
    .option('--repeats <n>', 'runs per configuration compared by the gate', String(DEFAULT_GATE.repeats))
    .option('--alpha <p>', 'significance level of the gate', String(DEFAULT_GATE.alpha))
    .option('--min-gain <fraction>', 'the smallest gain worth accepting, e.g. 0.02 for 2% (default: any real gain)', String(DEFAULT_GATE.minRelativeGain))
    .option(...SANDBOX_FLAG)
    .option(...CONTENTION_FLAG)
    .option('--no-early-stop', 'run every candidate to the end, even when its progress lines show it behind the incumbent')
    .option('--fresh', 'ignore what earlier runs on this task version learnt (by default a run starts from it)')
    .option('--keep-artifacts <n>', `artifacts kept besides the incumbent's and the accepted ones: the last N experiments' (default ${DEFAULT_KEEP_ARTIFACTS})`)
    .option('--resume <run>', 'continue a stopped or killed run')
    .option('--executor <where>', 'local | redis://HOST:PORT (experiments go to `successor worker`s)', 'local')
    .option('--shared-dir <dir>', 'with a redis executor: a folder all machines mount, for logs and artifacts')
    .option('--quick', 'the short run `npm start` makes: lm-speedrun-quick with a 10 minute budget')
    .option('--json', 'print the final summary as one JSON object')
    .action(
      action(async (flags: ResearchFlags, command: Command) => {
        const given = (name: string): boolean => command.getOptionValueSource(name) === 'cli';
        if (flags.config && flags.resume) throw new UsageError('--config starts a new run; --resume continues one with its stored options (give more budget as flags)');
        const file = flags.config ? readRunConfig(flags.config) : {};
        const contentionLimit = parseContentionLimit(flags.contentionLimit);
        const quick = flags.quick === true;
        const number = (name: string, text: string, integer = false) => parseNumber(name, text, { integer });
        const budgetSeconds = flags.budget ? parseDurationSeconds('budget', flags.budget) : quick ? 600 : null;
        const maxExperiments = flags.maxExperiments ? number('max-experiments', flags.maxExperiments, true) : null;
        const maxCpuSeconds = flags.maxCpu ? parseDurationSeconds('max-cpu', flags.maxCpu) : null;
        const parallel = number('parallel', flags.parallel, true);
        const generations = parseNumber('generations', flags.generations, { min: 1, max: 100, integer: true });
        const resume = flags.resume ? RunId.safeParse(flags.resume) : undefined;
        if (resume && !resume.success) throw new UsageError(`--resume needs a run id like run_xxxxxxxxxxxx, got '${flags.resume}'`);
        // The flags' values (their defaults included) over the file's, where typed here or where the file is silent.
        const merged = layerFlags(file, {
          task: quick && flags.task === 'lm-speedrun' ? 'lm-speedrun-quick' : flags.task, researcher: flags.researcher,
          budgetSeconds, maxExperiments, maxCpuSeconds, approval: flags.approval, parallel, seed: number('seed', flags.seed, true),
          sandboxMode: parseSandboxMode(flags.sandbox), usePrior: flags.fresh !== true, earlyStop: flags.earlyStop !== false,
          ...(contentionLimit !== undefined ? { contentionLimit } : {}),
          ...(flags.keepArtifacts ? { keepArtifacts: number('keep-artifacts', flags.keepArtifacts, true) } : {}),
          probes: { perProposal: parseNumber('probes', flags.probes, { integer: true, min: 0 }), capSeconds: parseNumber('probe-seconds', flags.probeSeconds, { min: 1 }) },
          gate: { ...DEFAULT_GATE, repeats: number('repeats', flags.repeats, true), alpha: number('alpha', flags.alpha), minRelativeGain: number('min-gain', flags.minGain) },
        }, {
          task: given('task') || quick, researcher: given('researcher'), budgetSeconds: given('budget') || quick, maxExperiments: given('maxExperiments'),
          maxCpuSeconds: given('maxCpu'), approval: given('approval'), parallel: given('parallel'), seed: given('seed'), sandboxMode: given('sandbox'), usePrior: given('fresh'),
          earlyStop: given('earlyStop'), contentionLimit: given('contentionLimit'), keepArtifacts: given('keepArtifacts'),
          'gate.repeats': given('repeats'), 'gate.alpha': given('alpha'), 'gate.minRelativeGain': given('minGain'),
          'probes.perProposal': given('probes'), 'probes.capSeconds': given('probeSeconds'),
        });
        // Validated, the task loaded, the researcher and executor built before the journal is opened: a command
        // refused for bad input leaves no state behind.
        let fresh: RunOptions | undefined;
        try {
          fresh = resume ? undefined : parseRunOptions(merged as RunOptionsInput);
        } catch (error) {
          if (error instanceof RunOptionsError && flags.config) throw new UsageError(`--config ${flags.config}: ${error.message}`);
          throw error;
        }
        if (fresh && fresh.budgetSeconds === null && fresh.maxExperiments === null) throw new UsageError('give a budget: --budget DURATION and/or --max-experiments N (or budgetSeconds / maxExperiments in --config)');
        // Where runs run here, the task's environment (mounts, devices, the programs its commands name) is checked
        // before a run is opened: a missing mount or scorer is one line, not a failed baseline. A worker checks its own.
        if (fresh) {
          const task = loadTask(fresh.task);
          if (flags.executor === 'local') resolveEnvironment(task, stateDir());
        }
        const sandboxMode = fresh?.sandboxMode ?? parseSandboxMode(flags.sandbox);
        const { journal, researcher, request, executor } = resume
          ? await resumeRun(resume.data, flags, sandboxMode, generations, { budgetSeconds, maxExperiments, maxCpuSeconds, parallel })
          : await startRun(fresh!, flags, sandboxMode, generations);
        const description = await executor.describe();
        const controller = new AbortController();
        const onSignal = () => {
          process.stderr.write('\nstopping: killing running experiments; resume with `successor research --resume RUN`\n');
          controller.abort();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        const progress = new LiveProgress(process.stderr);
        progress.start();
        try {
          const result = await research(
            { journal, executor, researcher, stateDir: stateDir(), signal: controller.signal, observe: (event) => progress.observe(event) },
            request,
            (run) => {
              progress.print(`run ${run.id}: task ${run.task}, generation ${run.generation}, researcher ${run.researcher}, sandbox ${description.sandbox}`);
              for (const missing of description.missing) progress.print(`WARNING: not enforced: ${missing}`);
            },
          ).catch((error: unknown) => {
            // An expected failure (the model's server failed for good: retries spent, bad key) leaves the run resumable.
            if (error instanceof FailureError && !(error instanceof CommandFailure)) throw new CommandFailure(`${error.message}; resume with --resume RUN once that is fixed`);
            throw error;
          });
          progress.stop(); // the live line goes before the result is printed
          const reports = await Promise.all(result.runs.map((summary) => writeRunReport(journal, summary.runId as RunId, stateDir())));
          const last = result.runs.at(-1);
          if (!last) return 1;
          if (flags.json) {
            process.stdout.write(`${JSON.stringify({ ...last, usage: journal.modelUsage(last.runId as RunId).total, generations: result.runs.map((summary) => ({ runId: summary.runId, bestScore: summary.bestScore, gain: summary.gain, gainOverGeneration0: summary.gainOverGeneration0 ?? summary.gain })), report: reports.at(-1) })}\n`);
          } else {
            printSummary(last, reports.at(-1) ?? '', result.runs[0], journal.modelUsage(last.runId as RunId).total);
          }
          // Stopped (Ctrl-C here, or `successor stop` from another terminal): not finished, and resumable.
          const stoppedRun = journal.getRun(last.runId as RunId);
          if (stoppedRun?.status === 'stopped') {
            if (!controller.signal.aborted) process.stderr.write(`${stoppedRun.stopReason}; resume with \`successor research --resume ${stoppedRun.id}\`\n`);
            return 1;
          }
          return 0;
        } finally {
          progress.stop();
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          await executor.close();
          journal.close();
        }
      }),
    );
}
