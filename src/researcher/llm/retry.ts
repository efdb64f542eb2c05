/**
 * Retries of model calls: 429, 5xx, timeouts, dropped connections and unparseable responses are tried again with
 * exponential backoff, honouring the server's `Retry-After` / `retry-after-ms`; anything else (a bad key, a bad
 * request) fails at once. The AI SDK's own retries are turned off (maxRetries: 0) because they do not let us cap
 * a hanging call per attempt nor log each retry.
 * Is not: tool-call repair (a malformed tool call is answered to the model, see researcher.ts).
 */
import { APICallError } from 'ai';
import { FailureError } from '../../task/errors.js';

/** A model call that failed for good: retries exhausted or an error no retry can fix. Ends the run (an infrastructure fault). */
export class ModelCallError extends FailureError {
  override name = 'ModelCallError';
  constructor(message: string, readonly attempts: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface RetryOptions {
  maxAttempts: number;
  /** Each attempt is aborted after this long (a hanging response must not hang the lab). */
  callTimeoutMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
  signal: AbortSignal;
  onRetry?: (event: { attempt: number; delayMs: number; reason: string }) => void;
}

export const DEFAULT_RETRY: Omit<RetryOptions, 'signal'> = { maxAttempts: 5, callTimeoutMs: 180_000, initialDelayMs: 1000, maxDelayMs: 60_000 };

class AttemptTimeout extends Error {
  override name = 'AttemptTimeout';
}

/** The server's requested wait, in ms, or null. */
export function retryAfterMs(headers: Record<string, string> | undefined, nowMs = Date.now()): number | null {
  if (!headers) return null;
  const lower = Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
  const milliseconds = Number(lower['retry-after-ms']);
  if (lower['retry-after-ms'] !== undefined && Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = lower['retry-after'];
  if (value === undefined) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : null;
}

const TRANSIENT_NAMES = new Set(['AI_JSONParseError', 'AI_TypeValidationError', 'AI_EmptyResponseBodyError', 'AI_InvalidResponseDataError', 'AI_NoOutputGeneratedError']);

/** Why this error deserves another attempt, or null when it does not. */
function transientReason(error: unknown): string | null {
  if (error instanceof AttemptTimeout) return error.message;
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    // A 2xx whose body does not parse: a proxy or server hiccup, worth another try.
    if (status !== undefined && status >= 200 && status < 300) return `unreadable response body: ${error.message.slice(0, 200)}`;
    if (status === 429 || (status !== undefined && status >= 500) || (status === undefined && error.isRetryable)) return `HTTP ${status ?? 'error'}: ${error.message.slice(0, 200)}`;
    return null;
  }
  if (error instanceof Error && TRANSIENT_NAMES.has(error.name)) return `${error.name}: ${error.message.slice(0, 200)}`;
  // fetch's network failures (connection refused or reset) surface as TypeError with a cause.
  if (error instanceof TypeError && /fetch failed|terminated|socket/i.test(error.message)) return `network: ${error.message}`;
  return null;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/** Runs `call` until it succeeds, with a fresh per-attempt abort signal that also follows `options.signal`. */
export async function withRetries<T>(call: (signal: AbortSignal) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const controller = new AbortController();
    const onAbort = () => controller.abort(options.signal.reason);
    options.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new AttemptTimeout(`no complete response within ${options.callTimeoutMs} ms`)), options.callTimeoutMs);
    try {
      return await Promise.race([
        call(controller.signal),
        // Some transports ignore the signal while a body is streaming; the race makes the timeout hold regardless.
        new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })),
      ]);
    } catch (error) {
      if (options.signal.aborted) throw error;
      const cause = controller.signal.aborted && controller.signal.reason instanceof AttemptTimeout ? controller.signal.reason : error;
      const reason = transientReason(cause);
      if (reason === null) throw new ModelCallError(`model call failed: ${(cause as Error).message ?? String(cause)}`, attempt, { cause });
      if (attempt >= options.maxAttempts) throw new ModelCallError(`model call failed after ${attempt} attempts: ${reason}`, attempt, { cause });
      const backoff = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (attempt - 1) * (0.75 + 0.5 * Math.random()));
      const requested = APICallError.isInstance(cause) ? retryAfterMs(cause.responseHeaders) : null;
      const delayMs = Math.min(options.maxDelayMs, requested ?? backoff);
      options.onRetry?.({ attempt, delayMs, reason });
      await sleep(delayMs, options.signal);
      if (options.signal.aborted) throw options.signal.reason;
    } finally {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
    }
  }
}
