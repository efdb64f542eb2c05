/**
 * Builds the llm researcher from command-line settings: the model from `PROVIDER:MODEL` (+ base URL), prices
 * from the table or the flags, and the budgets. A dollar budget with unknown prices is refused, not ignored.
 */
import { type UsageSnapshot, pricesFor } from './budget.js';
import { ModelSpecError, canonicalModelName, createLanguageModel, parseModelSpec } from './models.js';
import { LlmResearcher, type LlmResearcherOptions } from './researcher.js';

export interface LlmSettings {
  model: string;
  baseUrl?: string;
  maxTokens?: number | null;
  maxDollars?: number | null;
  /** US dollars per million tokens; both or neither. */
  priceInput?: number;
  priceOutput?: number;
  stream?: boolean;
  /** A resumed run's earlier usage (from its journaled `llm.call` events). */
  alreadySpent?: UsageSnapshot;
  environment?: Record<string, string | undefined>;
  /** Test and tuning overrides of the loop's bounds. */
  tuning?: Partial<Pick<LlmResearcherOptions, 'maxStepsPerEpisode' | 'maxNudges' | 'maxOutputTokens' | 'contextChars' | 'retry' | 'strategy'>>;
}

export function createLlmResearcher(settings: LlmSettings): LlmResearcher {
  const spec = parseModelSpec(settings.model);
  const modelName = canonicalModelName(spec);
  if ((settings.priceInput === undefined) !== (settings.priceOutput === undefined)) throw new ModelSpecError('give both --price-input and --price-output, or neither');
  const prices = settings.priceInput !== undefined && settings.priceOutput !== undefined
    ? { inputPerMillion: settings.priceInput, outputPerMillion: settings.priceOutput }
    : pricesFor(modelName);
  const maxDollars = settings.maxDollars ?? null;
  if (maxDollars !== null && !prices) throw new ModelSpecError(`no known prices for ${modelName} (the table in src/researcher/llm/prices.json): a dollar budget needs --price-input and --price-output (dollars per million tokens)`);
  return new LlmResearcher({
    model: createLanguageModel(spec, { baseUrl: settings.baseUrl, environment: settings.environment }),
    modelName,
    prices,
    maxTokens: settings.maxTokens ?? null,
    maxDollars,
    stream: settings.stream,
    alreadySpent: settings.alreadySpent,
    ...settings.tuning,
  });
}
