/**
 * The built-in researchers by name: "search" (TPE), "search:evolution" and "replay:FILE" need nothing but a seed and
 * work offline. Unknown names are a typed error listing the known ones.
 * Is not: a registry of live researchers. A researcher built from a model client or an MCP session (llm, mcp) is
 * made by the command that owns the client, and every researcher is handed to the lab by its composition root
 * (src/cli/compose.ts), as the executor is.
 */
import { resolve } from 'node:path';
import { loadReplayFile, ReplayResearcher } from './replay.js';
import { SearchResearcher } from './search.js';
import type { SearchFlavour } from './search.js';
import { UnknownResearcherError } from './types.js';
import type { Researcher } from './types.js';

export const KNOWN_RESEARCHERS = ['search', 'search:tpe', 'search:evolution', 'replay:FILE', 'llm'] as const;

export interface ResearcherOptions {
  seed: number;
  /** Where relative replay paths are resolved; default the process's working directory. */
  cwd?: string;
  /** Overrides of the search researcher's defaults (start-up length, TPE's gamma). */
  startupExperiments?: number;
  gamma?: number;
}

const SEARCH_FLAVOURS: Record<string, SearchFlavour> = { search: 'tpe', 'search:tpe': 'tpe', 'search:evolution': 'evolution' };

/** Whether `name` is a built-in researcher (as opposed to one a command builds from a live client). */
export const isBuiltinResearcher = (name: string): boolean => Object.hasOwn(SEARCH_FLAVOURS, name) || (name.startsWith('replay:') && name.length > 'replay:'.length);

export function createBuiltinResearcher(name: string, options: ResearcherOptions): Researcher {
  if (Object.hasOwn(SEARCH_FLAVOURS, name)) {
    return new SearchResearcher({ seed: options.seed, flavour: SEARCH_FLAVOURS[name], startupExperiments: options.startupExperiments, gamma: options.gamma });
  }
  if (name.startsWith('replay:') && name.length > 'replay:'.length) {
    return new ReplayResearcher(loadReplayFile(resolve(options.cwd ?? process.cwd(), name.slice('replay:'.length))));
  }
  if (name === 'llm') throw new UnknownResearcherError('llm (it needs --model PROVIDER:MODEL)', KNOWN_RESEARCHERS);
  throw new UnknownResearcherError(name, KNOWN_RESEARCHERS);
}
