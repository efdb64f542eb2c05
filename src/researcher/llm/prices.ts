/**
 * The model price table (prices.json beside this file): US dollars per million input and output tokens, dated and
 * with where each price came from, parsed with zod when first used. A key is `provider:model` (matched to the model
 * id exactly or with a date suffix, so `claude-opus-4` never prices `claude-opus-4-7`) or a bare provider (every
 * model of a local server costs 0). A model the table does not know has no price: a dollar budget then needs
 * --price-input and --price-output, rather than a guess.
 * Is not: the meter that adds calls up (budget.ts).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export interface Prices { inputPerMillion: number; outputPerMillion: number }

const Price = z.object({ input: z.number().nonnegative(), output: z.number().nonnegative(), source: z.string().min(1) }).strict();

export const PriceTable = z.object({
  /** The day the prices were last compared with their sources (YYYY-MM-DD). */
  checkedOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  note: z.string(),
  sources: z.record(z.string(), z.string()),
  models: z.record(z.string().regex(/^[a-z]+(:[\w.-]+)?$/, 'provider or provider:model'), Price),
}).strict().superRefine((table, context) => {
  for (const [model, price] of Object.entries(table.models)) {
    if (!(price.source in table.sources)) context.addIssue({ code: 'custom', path: ['models', model, 'source'], message: `unknown source '${price.source}'` });
  }
});
export type PriceTable = z.infer<typeof PriceTable>;

let table: PriceTable | undefined;

export function priceTable(): PriceTable {
  table ??= PriceTable.parse(JSON.parse(readFileSync(new URL('./prices.json', import.meta.url), 'utf8')));
  return table;
}

/** A model id as published, or with a release date after it (`-20250929`, `-2025-08-07`) or `-latest`. */
const matches = (modelId: string, listed: string): boolean =>
  modelId === listed || (modelId.startsWith(`${listed}-`) && /^(\d{8}|\d{4}-\d{2}-\d{2}|latest)$/.test(modelId.slice(listed.length + 1)));

/** Prices for `provider:model` (the canonical form models.ts gives), or null when the table has none. */
export function pricesFor(model: string): Prices | null {
  const colon = model.indexOf(':');
  const provider = colon < 0 ? model : model.slice(0, colon);
  const modelId = colon < 0 ? '' : model.slice(colon + 1);
  const entries = Object.entries(priceTable().models);
  const exact = entries.find(([key]) => key.includes(':') && key.slice(0, key.indexOf(':')) === provider && matches(modelId, key.slice(key.indexOf(':') + 1)));
  const found = exact ?? entries.find(([key]) => key === provider);
  return found ? { inputPerMillion: found[1].input, outputPerMillion: found[1].output } : null;
}
