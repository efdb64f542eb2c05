/**
 * Shared CLI plumbing: exit codes, typed usage errors, output on stdout (text or --json) and progress on stderr.
 * Every command's action goes through `action()`, so the exit-code contract lives in one place:
 * 0 ok, 1 failure, 2 bad usage or bad input (one line on stderr naming the problem).
 */
import { ZodError } from 'zod';
import { CheckpointError } from '../gpt/checkpoint.js';
import { DataError } from '../gpt/data.js';
import { isCorruptionCode } from '../journal/errors.js';
import { journalPath } from '../journal/paths.js';
import { RecordsError } from '../stats/records.js';
import { BadInputError, FailureError, SuccessorError, describeZodError } from '../task/errors.js';
import { formatNumber } from '../task/format-number.js';

export { formatNumber, formatRatio, formatSeconds } from '../task/format-number.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Bad flags or bad input files: exit 2 with one line that names the problem. */
export class UsageError extends BadInputError {
  override name = 'UsageError';
}

/** An expected failure the user should know about (exit 1), as opposed to a bug. */
export class CommandFailure extends FailureError {
  override name = 'CommandFailure';
}

export const useColor = (): boolean => !process.env.NO_COLOR && process.stderr.isTTY === true;

export { describeZodError };

/**
 * The error family (src/task/errors.ts) says what an error means; the floors that depend on nothing (src/gpt,
 * src/stats) have their own bad-input errors (a damaged checkpoint, unreadable data, a malformed records file).
 * SQLite's "not a database" and "malformed" met in the middle of a query are a damaged journal: the user's file.
 */
function kindOf(error: unknown): SuccessorError['kind'] | 'bug' {
  if (error instanceof SuccessorError) return error.kind;
  if (error instanceof ZodError || error instanceof CheckpointError || error instanceof DataError || error instanceof RecordsError) return 'bad-input';
  if (isCorruptionCode((error as { code?: unknown })?.code)) return 'bad-input';
  return 'bug';
}

function messageOf(error: unknown): string {
  if (error instanceof ZodError) return `invalid input: ${describeZodError(error)}`;
  if (!(error instanceof SuccessorError) && isCorruptionCode((error as { code?: unknown })?.code)) {
    return `the journal at ${journalPath()} is damaged: ${(error as Error).message}`;
  }
  return (error as Error).message;
}

/** Wraps a command action with the exit-code contract. */
export function action<Args extends unknown[]>(run: (...args: Args) => Promise<number | void> | number | void) {
  return async (...args: Args): Promise<void> => {
    try {
      const code = await run(...args);
      process.exitCode = code ?? EXIT_OK;
    } catch (error) {
      const kind = kindOf(error);
      if (kind === 'bug') {
        process.stderr.write(`successor: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
        process.exitCode = EXIT_FAILURE;
        return;
      }
      process.stderr.write(`successor: ${messageOf(error)}\n`);
      process.exitCode = kind === 'bad-input' ? EXIT_USAGE : EXIT_FAILURE;
    }
  };
}

/** Prints a result: one JSON object with --json, otherwise `key: value` lines (greppable, as llm.c does). */
export function printResult(result: Record<string, unknown>, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  for (const [key, value] of Object.entries(result)) {
    const text = typeof value === 'number' ? formatNumber(value) : typeof value === 'string' ? value : JSON.stringify(value);
    process.stdout.write(`${key}: ${text}\n`);
  }
}

/** Parses a number flag, rejecting NaN and anything outside [min, max]. */
export function parseNumber(name: string, text: string, options: { min?: number; max?: number; integer?: boolean } = {}): number {
  const value = Number(text);
  if (!Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got '${text}'`);
  if (options.integer && !Number.isInteger(value)) throw new UsageError(`--${name} must be an integer, got '${text}'`);
  if (options.min !== undefined && value < options.min) throw new UsageError(`--${name} must be at least ${options.min}, got ${value}`);
  if (options.max !== undefined && value > options.max) throw new UsageError(`--${name} must be at most ${options.max}, got ${value}`);
  return value;
}

/** Parses durations such as `90s`, `20m`, `1.5h` or a bare number of seconds. */
export function parseDurationSeconds(name: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--${name} must be a duration like 90s, 20m or 1h, got '${text}'`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const seconds = unit === 'h' ? value * 3600 : unit === 'm' ? value * 60 : value;
  if (seconds <= 0) throw new UsageError(`--${name} must be positive, got '${text}'`);
  return seconds;
}

/** Commander collector for repeatable flags (`--set a=1 --set b=2`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
