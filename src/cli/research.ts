/**
 * `successor research`: the product's main job. Runs the research loop on a task with a researcher under a
 * budget, prints live progress on stderr and the verified result on stdout (or one JSON object with --json).
 */
import type { Command } from 'commander';
import { journalPath, stateDir } from '../journal/paths.js';
import type { LabEvent } from '../lab/events.js';
import { DEFAULT_GATE, optionsOf, parseRunOptions } from '../lab/options.js';
import { writeRunReport } from '../lab/report.js';
import { type ResearchRequest, research } from '../lab/start.js';
import { DEFAULT_KEEP_ARTIFACTS } from '../lab/retention.js';
import type { RunSummary } from '../lab/summary.js';
import { FailureError } from '../task/errors.js';
import { RunId } from '../task/ids.js';
import { isScored } from '../task/outcome.js';
import type { Executor } from '../executor/types.js';
import type { Researcher } from '../researcher/types.js';
import { CommandFailure, UsageError, action, formatNumber, parseDurationSeconds, parseNumber } from './common.js';
import { CONTENTION_FLAG, SANDBOX_FLAG, composeResearcher, parseContentionLimit, createExecutor, openLabJournal, parseSandboxMode } from './compose.js';

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
  model?: string;
  baseUrl?: string;
  maxTokens?: string;
  maxDollars?: string;
  priceInput?: string;
  priceOutput?: string;
  stream?: boolean;
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
    case 'experiment.progress':
      return null;
  }
}

function printSummary(summary: RunSummary, reportPath: string, generation0: RunSummary | undefined): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`run: ${summary.runId} (${summary.task}, researcher ${summary.researcher}) — ${summary.stopReason}`);
  out(`experiments: ${summary.experiments} (${summary.candidates} candidates, ${summary.accepted} accepted) ${JSON.stringify(summary.outcomes)}`);
  out(`baseline: ${formatSeconds(summary.baselineScore)} over ${summary.baselineSamples.length} runs [${summary.baselineSamples.map(formatNumber).join(', ')}]`);
  const failed = summary.bestFailedRuns ? `, ${summary.bestFailedRuns} more failed` : '';
  out(`best: ${formatSeconds(summary.bestScore)} over ${summary.bestSamples.length} runs [${summary.bestSamples.map(formatNumber).join(', ')}]${failed} — ${summary.bestDescription}`);
  const ci = summary.gainCi95 ? ` (95% CI ${summary.gainCi95.map((value) => value.toFixed(2)).join('-')})` : '';
  const verdict = summary.accepted === 0 ? ' — nothing accepted' : '';
  out(`${summary.speedup !== undefined ? 'speedup' : 'gain'}: ${summary.gain === null ? '-' : `${summary.gain.toFixed(2)}x`}${ci}${verdict}`);
  if (generation0 && generation0 !== summary && summary.gainOverGeneration0) {
    out(`over generation 0's baseline: ${summary.gainOverGeneration0.toFixed(2)}x`);
  }
  if (summary.timeSpent) {
    const { calibrating, screening, confirming, reverifying } = summary.timeSpent;
    out(`time: calibrating ${formatSeconds(calibrating)}, screening ${formatSeconds(screening)}, confirming ${formatSeconds(confirming)}, re-verifying ${formatSeconds(reverifying)}`);
  }
  for (const demotion of summary.demoted ?? []) out(`demoted: ${demotion}`);
  for (const note of summary.notes ?? []) out(`note: ${note}`);
  if (summary.bestChange) out(`winning change:\n${summary.bestChange.trimEnd()}`);
  out(`report: ${reportPath}`);
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
      action(async (flags: ResearchFlags) => {
        const sandboxMode = parseSandboxMode(flags.sandbox);
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
        if (budgetSeconds === null && maxExperiments === null && !resume) throw new UsageError('give a budget: --budget DURATION and/or --max-experiments N');
        // Validated before anything is opened, so bad options leave no state behind.
        const fresh = resume ? undefined : parseRunOptions({
          task: quick && flags.task === 'lm-speedrun' ? 'lm-speedrun-quick' : flags.task,
          researcher: flags.researcher, budgetSeconds, maxExperiments, maxCpuSeconds, approval: flags.approval as never, parallel,
          seed: number('seed', flags.seed, true), sandboxMode, usePrior: flags.fresh !== true, earlyStop: flags.earlyStop !== false,
          ...(contentionLimit !== undefined ? { contentionLimit } : {}),
          ...(flags.keepArtifacts ? { keepArtifacts: number('keep-artifacts', flags.keepArtifacts, true) } : {}),
          gate: { ...DEFAULT_GATE, repeats: number('repeats', flags.repeats, true), alpha: number('alpha', flags.alpha), minRelativeGain: number('min-gain', flags.minGain) },
        });
        const journal = openLabJournal();
        let researcher: Researcher;
        let request: ResearchRequest;
        let executor: Executor;
        try {
          const resumed = resume ? journal.getRun(resume.data) : undefined;
          if (resume && !resumed) throw new UsageError(`no run ${resume.data} in ${journalPath()}`);
          const stored = resumed ? optionsOf(resumed) : undefined;
          const composed = await composeResearcher(resumed ? resumed.researcher : flags.researcher, (stored ?? fresh)?.seed ?? 1, journal, flags, resumed);
          researcher = composed.researcher;
          if (resume) {
            request = { resume: resume.data, generations, overrides: {
              budgetSeconds: flags.budget ? budgetSeconds ?? undefined : undefined, maxExperiments: maxExperiments ?? undefined,
              maxCpuSeconds: maxCpuSeconds ?? undefined, parallel: flags.parallel !== '1' ? parallel : undefined, researcherSettings: composed.settings,
            } };
          } else {
            request = { options: { ...fresh!, ...(composed.settings ? { researcherSettings: composed.settings } : {}) }, generations };
          }
          executor = await createExecutor(flags.executor, sandboxMode, flags.sharedDir);
        } catch (error) {
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
            { journal, executor, researcher, stateDir: stateDir(), signal: controller.signal, observe: (event) => {
              const line = progressLine(event);
              if (line) process.stderr.write(`${line}\n`);
            } },
            request,
            (run) => {
              process.stderr.write(`run ${run.id}: task ${run.task}, generation ${run.generation}, researcher ${run.researcher}, sandbox ${description.sandbox}\n`);
              for (const missing of description.missing) process.stderr.write(`WARNING: not enforced: ${missing}\n`);
            },
          ).catch((error: unknown) => {
            // An expected failure (the model's server failed for good: retries spent, bad key) leaves the run resumable.
            if (error instanceof FailureError && !(error instanceof CommandFailure)) throw new CommandFailure(`${error.message}; resume with --resume RUN once that is fixed`);
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
          await executor.close();
          journal.close();
        }
      }),
    );
}
