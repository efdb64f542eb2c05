/**
 * The composition root for researchers: a name from the CLI or a config ("search", "search:evolution",
 * "replay:FILE") to an instance. Unknown names are a typed error listing the known ones.
 * Is not: the place for provider keys or model choice: the command that has them provides the llm researcher.
 */
import { resolve } from 'node:path';
import { loadReplayFile, ReplayResearcher } from './replay.js';
import { SearchResearcher } from './search.js';
import type { SearchFlavour } from './search.js';
import { UnknownResearcherError } from './types.js';
import type { Researcher } from './types.js';

export const KNOWN_RESEARCHERS = ['search', 'search:tpe', 'search:evolution', 'replay:FILE', 'llm'] as const;

type ResearcherFactory = (options: ResearcherOptions) => Researcher;

/** Researchers built from live objects (a model client, an MCP session), provided by the command that owns them. */
const provided = new Map<string, ResearcherFactory>();

/** Makes `name` resolve to `factory` until the returned function withdraws it (the llm and mcp commands use this). */
export function provideResearcher(name: string, factory: ResearcherFactory): () => void {
  provided.set(name, factory);
  return () => {
    if (provided.get(name) === factory) provided.delete(name);
  };
}

export interface ResearcherOptions {
  seed: number;
  /** Where relative replay paths are resolved; default the process's working directory. */
  cwd?: string;
  /** Overrides of the search researcher's defaults (start-up length, TPE's gamma). */
  startupExperiments?: number;
  gamma?: number;
}

export function createResearcher(name: string, options: ResearcherOptions): Researcher {
  const factory = provided.get(name);
  if (factory) return factory(options);
  if (name === 'llm') throw new UnknownResearcherError('llm (it needs --model PROVIDER:MODEL)', KNOWN_RESEARCHERS);
  const flavours: Record<string, SearchFlavour> = { search: 'tpe', 'search:tpe': 'tpe', 'search:evolution': 'evolution' };
  if (Object.hasOwn(flavours, name)) {
    return new SearchResearcher({ seed: options.seed, flavour: flavours[name], startupExperiments: options.startupExperiments, gamma: options.gamma });
  }
  if (name.startsWith('replay:') && name.length > 'replay:'.length) {
    return new ReplayResearcher(loadReplayFile(resolve(options.cwd ?? process.cwd(), name.slice('replay:'.length))));
  }
  throw new UnknownResearcherError(name, KNOWN_RESEARCHERS);
}
