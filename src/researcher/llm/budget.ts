/**
 * Token and dollar accounting for model calls: a small price table per model (US dollars per million tokens),
 * overridable per run, and a meter that says when a budget is spent.
 * Is not: the lab's time or experiment budget (src/lab owns those); prices drift, so the table is a default.
 */

export interface Prices { inputPerMillion: number; outputPerMillion: number }

/** Published list prices at the time of writing; matched by model-id prefix, longest first. Local models cost 0. */
const PRICE_TABLE: Record<string, Prices> = {
  'openai:gpt-4.1-nano': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  'openai:gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'openai:gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'openai:gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'openai:gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'openai:gpt-5-mini': { inputPerMillion: 0.25, outputPerMillion: 2 },
  'openai:gpt-5': { inputPerMillion: 1.25, outputPerMillion: 10 },
  'anthropic:claude-haiku': { inputPerMillion: 1, outputPerMillion: 5 },
  'anthropic:claude-3-5-haiku': { inputPerMillion: 0.8, outputPerMillion: 4 },
  'anthropic:claude-sonnet': { inputPerMillion: 3, outputPerMillion: 15 },
  'anthropic:claude-opus': { inputPerMillion: 15, outputPerMillion: 75 },
  ollama: { inputPerMillion: 0, outputPerMillion: 0 },
  llamacpp: { inputPerMillion: 0, outputPerMillion: 0 },
  lmstudio: { inputPerMillion: 0, outputPerMillion: 0 },
  vllm: { inputPerMillion: 0, outputPerMillion: 0 },
};

/** Prices for `provider:model`, or null when unknown (a dollar budget then needs explicit prices). */
export function pricesFor(model: string): Prices | null {
  const keys = Object.keys(PRICE_TABLE).filter((key) => model === key || model.startsWith(key.includes(':') ? key : `${key}:`));
  const best = keys.sort((a, b) => b.length - a.length)[0];
  return best ? PRICE_TABLE[best] : null;
}

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

  /**
   * `already`: what earlier calls of the same run spent (a resumed run keeps counting from there). `shared`: a meter
   * several models of one run count against together (each call is added there too, and its limits stop this one).
   */
  constructor(private readonly limits: BudgetLimits, private readonly prices: Prices | null, already?: UsageSnapshot, private readonly shared?: UsageMeter) {
    if (already) Object.assign(this, already);
  }

  /** Adds one call's usage; returns its cost in dollars (0 when prices are unknown). */
  add(usage: Usage): number {
    const cost = this.prices ? (usage.inputTokens * this.prices.inputPerMillion + usage.outputTokens * this.prices.outputPerMillion) / 1e6 : 0;
    this.inputTokens += usage.inputTokens;
    this.outputTokens += usage.outputTokens;
    this.dollars += cost;
    this.calls += 1;
    this.shared?.addCost(usage, cost);
    return cost;
  }

  /** Adds a call priced by another meter (a model of an ensemble, with its own prices). */
  addCost(usage: Usage, cost: number): void {
    this.inputTokens += usage.inputTokens;
    this.outputTokens += usage.outputTokens;
    this.dollars += cost;
    this.calls += 1;
  }

  /** Why no further call may be made, or null. */
  spent(): string | null {
    const shared = this.shared?.spent();
    if (shared) return shared;
    const tokens = this.inputTokens + this.outputTokens;
    if (this.limits.maxTokens !== null && tokens >= this.limits.maxTokens) return `token budget spent (${tokens} of ${this.limits.maxTokens})`;
    if (this.limits.maxDollars !== null && this.dollars >= this.limits.maxDollars) return `dollar budget spent ($${this.dollars.toFixed(4)} of $${this.limits.maxDollars})`;
    return null;
  }

  snapshot(): UsageSnapshot {
    return { inputTokens: this.inputTokens, outputTokens: this.outputTokens, dollars: this.dollars, calls: this.calls };
  }
}
