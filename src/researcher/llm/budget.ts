/**
 * Token and dollar accounting for model calls: a meter that prices each call (the table in prices.ts, or the
 * run's own prices) and says when a budget is spent.
 * Is not: the lab's time or experiment budget (src/lab owns those), nor the prices themselves (prices.ts).
 */
import type { Prices } from './prices.js';

export { type Prices, pricesFor } from './prices.js';

export interface Usage { inputTokens: number; outputTokens: number }

export interface UsageSnapshot { inputTokens: number; outputTokens: number; dollars: number; calls: number }

/** What the `llm.call` journal events of a run (payloads with `usage` and `costDollars`) add up to. */
export function usageOf(calls: ReadonlyArray<{ usage?: Partial<Usage>; costDollars?: number }>): UsageSnapshot {
  const total: UsageSnapshot = { inputTokens: 0, outputTokens: 0, dollars: 0, calls: 0 };
  for (const call of calls) {
    total.inputTokens += Number(call.usage?.inputTokens ?? 0);
    total.outputTokens += Number(call.usage?.outputTokens ?? 0);
    total.dollars += Number(call.costDollars ?? 0);
    total.calls += 1;
  }
  return total;
}

export interface BudgetLimits { maxTokens: number | null; maxDollars: number | null }

export class UsageMeter {
  inputTokens = 0;
  outputTokens = 0;
  dollars = 0;
  calls = 0;

  /** `already`: what earlier calls of the same run spent (a resumed run keeps counting from there). */
  constructor(private readonly limits: BudgetLimits, private readonly prices: Prices | null, already?: UsageSnapshot) {
    if (already) Object.assign(this, already);
  }

  /** Adds one call's usage; returns its cost in dollars (0 when prices are unknown). */
  add(usage: Usage): number {
    const cost = this.prices ? (usage.inputTokens * this.prices.inputPerMillion + usage.outputTokens * this.prices.outputPerMillion) / 1e6 : 0;
    this.inputTokens += usage.inputTokens;
    this.outputTokens += usage.outputTokens;
    this.dollars += cost;
    this.calls += 1;
    return cost;
  }

  /** Why no further call may be made, or null. */
  spent(): string | null {
    const tokens = this.inputTokens + this.outputTokens;
    if (this.limits.maxTokens !== null && tokens >= this.limits.maxTokens) return `token budget spent (${tokens} of ${this.limits.maxTokens})`;
    if (this.limits.maxDollars !== null && this.dollars >= this.limits.maxDollars) return `dollar budget spent ($${this.dollars.toFixed(4)} of $${this.limits.maxDollars})`;
    return null;
  }

  snapshot(): UsageSnapshot {
    return { inputTokens: this.inputTokens, outputTokens: this.outputTokens, dollars: this.dollars, calls: this.calls };
  }
}
