/**
 * The prompts, kept as Markdown beside this file so they can be read and changed without reading code.
 * `{{name}}` placeholders are filled from a record; a missing value is a bug, so it throws.
 */
import { readFileSync } from 'node:fs';

export type PromptName = 'system' | 'draft' | 'improve' | 'debug' | 'nudge' | 'explore' | 'crossover';

const cache = new Map<PromptName, string>();

export function loadPrompt(name: PromptName): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`./prompts/${name}.md`, import.meta.url), 'utf8');
    cache.set(name, text);
  }
  return text;
}

export function renderPrompt(name: PromptName, values: Record<string, string>): string {
  return loadPrompt(name).replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (!Object.hasOwn(values, key)) throw new Error(`prompt ${name} needs {{${key}}}`);
    return values[key];
  });
}
