/** The model price table (src/researcher/llm/prices.json) parses, is dated, and prices what it lists, no more. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalModelName, createLanguageModel, parseModelSpec } from '../../src/researcher/llm/models.js';
import { PriceTable, priceTable, pricesFor } from '../../src/researcher/llm/prices.js';

describe('the price table', () => {
  it('parses, names a source for every price, and is dated no later than today', () => {
    const raw = JSON.parse(readFileSync(new URL('../../src/researcher/llm/prices.json', import.meta.url), 'utf8'));
    const table = PriceTable.parse(raw);
    expect(Date.parse(table.checkedOn)).toBeLessThanOrEqual(Date.now());
    expect(Object.keys(table.models).length).toBeGreaterThan(10);
    expect(() => PriceTable.parse({ ...raw, models: { 'openai:x': { input: 1, output: 2, source: 'nowhere' } } })).toThrow(/unknown source 'nowhere'/);
    expect(() => PriceTable.parse({ ...raw, models: { 'openai:x': { input: -1, output: 2, source: 'openai' } } })).toThrow();
  });

  it('has Opus 4.5 and 4.6 at $5/$25 and the older Opus 4 at $15/$75', () => {
    for (const model of ['anthropic:claude-opus-4-5', 'anthropic:claude-opus-4-5-20251101', 'anthropic:claude-opus-4-6']) {
      expect(pricesFor(model), model).toEqual({ inputPerMillion: 5, outputPerMillion: 25 });
    }
    expect(pricesFor('anthropic:claude-opus-4-20250514')).toEqual({ inputPerMillion: 15, outputPerMillion: 75 });
    expect(pricesFor('anthropic:claude-opus-4-1')).toEqual({ inputPerMillion: 15, outputPerMillion: 75 });
  });

  it('prices a listed model, its dated ids and local servers; never guesses a model it does not list', () => {
    expect(pricesFor('openai:gpt-5')).toEqual({ inputPerMillion: 1.25, outputPerMillion: 10 });
    expect(pricesFor('openai:gpt-5-mini')).toEqual({ inputPerMillion: 0.25, outputPerMillion: 2 });
    expect(pricesFor('openai:gpt-5-2025-08-07')).toEqual({ inputPerMillion: 1.25, outputPerMillion: 10 });
    expect(pricesFor('google:gemini-2.5-flash')).toEqual({ inputPerMillion: 0.3, outputPerMillion: 2.5 });
    expect(pricesFor('ollama:qwen2.5-coder:7b')).toEqual({ inputPerMillion: 0, outputPerMillion: 0 });
    // A prefix is not a price: a newer model than the table knows has none.
    expect(pricesFor('anthropic:claude-opus-4-7')).toBeNull();
    expect(pricesFor('openai:gpt-5.9')).toBeNull();
    expect(pricesFor('compatible:x')).toBeNull();
    expect(priceTable().checkedOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('model ids', () => {
  it.each([
    ['openai:gpt-5', 'openai', 'gpt-5'],
    ['openai/gpt-5', 'openai', 'gpt-5'],
    ['anthropic/claude-sonnet-4-5', 'anthropic', 'claude-sonnet-4-5'],
    ['google:gemini-2.5-flash', 'google', 'gemini-2.5-flash'],
    ['ollama:qwen2.5-coder:7b', 'ollama', 'qwen2.5-coder:7b'],
    ['ollama/qwen2.5-coder:7b', 'ollama', 'qwen2.5-coder:7b'],
    ['openrouter/anthropic/claude-sonnet-4-5', 'openrouter', 'anthropic/claude-sonnet-4-5'],
  ])('%s is provider %s, model %s', (spec, provider, modelId) => {
    expect(parseModelSpec(spec)).toEqual({ provider, modelId });
    expect(canonicalModelName(parseModelSpec(spec))).toBe(`${provider}:${modelId}`);
  });

  it('builds a Google model from GOOGLE_GENERATIVE_AI_API_KEY or GEMINI_API_KEY, and names the variable when neither is set', () => {
    const spec = parseModelSpec('google/gemini-2.5-flash');
    for (const environment of [{ GOOGLE_GENERATIVE_AI_API_KEY: 'k' }, { GEMINI_API_KEY: 'k' }]) {
      const model = createLanguageModel(spec, { environment });
      expect(typeof model === 'object' && model.provider).toMatch(/^google/);
      expect(typeof model === 'object' && model.modelId).toBe('gemini-2.5-flash');
    }
    expect(() => createLanguageModel(spec, { environment: {} })).toThrow(/google needs GOOGLE_GENERATIVE_AI_API_KEY/);
  });

  it.each(['gpt-5', ':gpt-5', 'openai:', 'openai/', 'mystery:model'])('refuses %s', (spec) => {
    expect(() => parseModelSpec(spec)).toThrow(/PROVIDER:MODEL|unknown provider/);
  });
});
