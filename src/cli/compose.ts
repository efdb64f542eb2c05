/**
 * The composition root: the one place that builds the lab's parts for a command — the journal, the sandbox and the
 * executor that runs experiments in it, and the researcher — and hands them to src/lab. Every command that runs
 * experiments (research, mcp, bench, task check) comes through here, so a flag such as `--sandbox` means the same
 * thing everywhere and is checked once. Heavy clients (the AI SDK, the queue) are imported only when asked for.
 * Is not: the research loop (src/lab) nor the commands' flags and output (one file per command).
 */
import { z } from 'zod';
import { LocalExecutor } from '../executor/local.js';
import type { Executor } from '../executor/types.js';
import { type Journal, type RunRow, openJournal } from '../journal/journal.js';
import { journalPath, stateDir } from '../journal/paths.js';
import { SandboxMode } from '../lab/options.js';
import { createBuiltinResearcher } from '../researcher/builtin.js';
import type { Researcher } from '../researcher/types.js';
import { describeZodError } from '../task/errors.js';
import { CommandFailure, UsageError, parseNumber } from './common.js';

/** The `--sandbox` flag every command that runs experiments takes. */
export const SANDBOX_FLAG = ['--sandbox <mode>', 'auto | required | off', 'auto'] as const;

export function parseSandboxMode(text: string): SandboxMode {
  const parsed = SandboxMode.safeParse(text);
  if (!parsed.success) throw new UsageError(`--sandbox must be auto, required or off, got '${text}'`);
  return parsed.data;
}

/**
 * The `--contention-limit` flag: a fraction of a run's cores that other work may take before the run is not counted,
 * or `off`. Without the flag, SUCCESSOR_CONTENTION_LIMIT (the test suite sets it to off: its own parallel test files
 * are the contention), else the schema's default.
 */
export const CONTENTION_FLAG = ['--contention-limit <fraction|off>', 'a run during which other work took more than this share of its cores is not counted and is made again (default 0.25)'] as const;

export function parseContentionLimit(text: string | undefined): number | null | undefined {
  const given = text ?? process.env.SUCCESSOR_CONTENTION_LIMIT;
  if (given === undefined || given === '') return undefined;
  if (given === 'off') return null;
  const value = Number(given);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new UsageError(`--contention-limit must be a fraction between 0 and 1, or off; got '${given}'`);
  return value;
}

/** `local` runs experiments on this machine; `redis://...` sends them to `successor worker`s on other machines. */
export async function createExecutor(where: string, sandboxMode: SandboxMode, sharedDir?: string): Promise<Executor> {
  if (where === 'local') return LocalExecutor.create(sandboxMode, stateDir());
  if (!where.startsWith('redis://')) throw new UsageError(`--executor must be local or redis://HOST:PORT, got '${where}'`);
  const { QueueExecutor } = await import('../executor/queue.js');
  return QueueExecutor.create({ redisUrl: where, stateDir: stateDir(), sharedDir }).catch((error: Error) => {
    throw new CommandFailure(error.message);
  });
}

export function openLabJournal(): Journal {
  return openJournal(journalPath());
}

/** What a run stores of the llm researcher's settings (never keys). */
const LlmRunSettings = z.object({
  model: z.string().min(1),
  baseUrl: z.string().optional(),
  maxTokens: z.number().int().positive().nullable().optional(),
  maxDollars: z.number().nonnegative().nullable().optional(),
  priceInput: z.number().nonnegative().optional(),
  priceOutput: z.number().nonnegative().optional(),
  stream: z.boolean().optional(),
}).strict();

/** The llm researcher's flags, as given (strings), before parsing. */
export interface LlmFlags {
  model?: string;
  baseUrl?: string;
  maxTokens?: string;
  maxDollars?: string;
  priceInput?: string;
  priceOutput?: string;
  stream?: boolean;
}

export interface ComposedResearcher {
  researcher: Researcher;
  /** Settings to store with the run so `--resume` needs no flags (never keys). */
  settings?: Record<string, unknown>;
}

/**
 * Builds the researcher a run asks for. Built-in ones need only the run's seed; `llm` is made from its flags (a
 * resumed run keeps its stored settings, flags given now win, and its token and dollar budgets count on from what
 * it already spent, across its earlier generations). API keys stay in this process's environment.
 */
export async function composeResearcher(name: string, seed: number, journal: Journal | undefined, flags: LlmFlags = {}, resumed?: RunRow,
  fromFile?: Record<string, unknown>): Promise<ComposedResearcher> {
  if (name !== 'llm') return { researcher: createBuiltinResearcher(name, { seed }) };
  const { createLlmResearcher } = await import('../researcher/llm/create.js');
  const { ModelSpecError } = await import('../researcher/llm/models.js');
  const { usageOf } = await import('../researcher/llm/budget.js');
  const { optionsOf } = await import('../lab/options.js');
  // A resumed run's stored settings, or a config file's (`researcherSettings`); flags given now win over either.
  const stored = (resumed ? optionsOf(resumed).researcherSettings : fromFile) ?? {};
  const spent = resumed && journal ? usageOf(runChain(journal, resumed).flatMap((run) => journal.listEvents(run.id).filter((event) => event.type === 'llm.call').map((event) => event.payload))) : undefined;
  const price = (flag: string, value?: string) => (value === undefined ? undefined : parseNumber(flag, value, { min: 0 }));
  const given = {
    model: flags.model,
    baseUrl: flags.baseUrl,
    maxTokens: flags.maxTokens ? parseNumber('max-tokens', flags.maxTokens, { min: 1, integer: true }) + (spent ? spent.inputTokens + spent.outputTokens : 0) : undefined,
    maxDollars: flags.maxDollars ? parseNumber('max-dollars', flags.maxDollars, { min: 0 }) + (spent?.dollars ?? 0) : undefined,
    priceInput: price('price-input', flags.priceInput),
    priceOutput: price('price-output', flags.priceOutput),
    stream: flags.stream,
  };
  const merged = { ...stored, ...Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) };
  if (typeof merged.model !== 'string') throw new UsageError('--researcher llm needs --model PROVIDER:MODEL (e.g. openai:gpt-4.1-mini, anthropic/claude-sonnet-4-5, ollama:qwen2.5-coder:7b)');
  const settings = LlmRunSettings.safeParse(merged);
  if (!settings.success) throw new UsageError(`the llm researcher's settings: ${describeZodError(settings.error)}`);
  try {
    return { researcher: createLlmResearcher({ ...settings.data, alreadySpent: spent }), settings: settings.data };
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
