/**
 * Builds the llm researcher from command-line settings: the model from `PROVIDER:MODEL` (+ base URL), prices
 * from the table or the flags, and the budgets. A dollar budget with unknown prices is refused, not ignored.
 */
import { type UsageSnapshot, UsageMeter, pricesFor } from './budget.js';
import { ModelEnsemble } from './ensemble.js';
import { ModelSpecError, canonicalModelName, createLanguageModel, parseModelSpec } from './models.js';
import { LlmResearcher, type LlmResearcherOptions } from './researcher.js';

export interface LlmSettings {
  model: string;
  /** Several models in one run (the first is `model`): a bandit picks one per proposal (ensemble.ts). */
  models?: string[];
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

/** One model, or (with `models`) an ensemble of them that shares the token and dollar budget. */
export function createModelResearcher(settings: LlmSettings): LlmResearcher | ModelEnsemble {
  const models = [...new Set([settings.model, ...(settings.models ?? [])])];
  if (models.length === 1) return createLlmResearcher(settings);
  // The budget is the ensemble's: each model prices its own calls (explicit prices apply to all) into one meter.
  const shared = new UsageMeter({ maxTokens: settings.maxTokens ?? null, maxDollars: settings.maxDollars ?? null }, null, settings.alreadySpent);
  const members = models.map((model) => {
    const explicit = settings.priceInput !== undefined && settings.priceOutput !== undefined;
    if (settings.maxDollars != null && !explicit && !pricesFor(model)) throw new ModelSpecError(`no known prices for ${model}: a dollar budget needs --price-input and --price-output (dollars per million tokens)`);
    return createLlmResearcher({ ...settings, model, models: undefined, maxTokens: null, maxDollars: null, alreadySpent: undefined, sharedMeter: shared });
  });
  return new ModelEnsemble(members, shared);
}

export function createLlmResearcher(settings: LlmSettings & { sharedMeter?: UsageMeter }): LlmResearcher {
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
    sharedMeter: settings.sharedMeter,
    ...settings.tuning,
  });
}
