/**
 * From `PROVIDER:MODEL` (or `PROVIDER/MODEL`) to an AI SDK language model: OpenAI, Anthropic, Google, and
 * OpenAI-compatible servers. Keys come from the lab process's environment only (the
 * sandbox gets a clean one); `baseUrl` points a provider at a compatible server (Ollama, vLLM, llama.cpp's
 * server, LM Studio, OpenRouter, or the tests' scripted server).
 * Is not: the agent loop (researcher.ts) nor prices (budget.ts).
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from 'ai';
import { BadInputError } from '../../task/errors.js';

/** A `--model` that cannot be served: unknown provider, missing key or base URL. Not retryable: a usage error. */
export class ModelSpecError extends BadInputError {
  override name = 'ModelSpecError';
}

interface CompatibleProvider { baseUrl: string | null; keyVariable: string | null }

/** OpenAI-compatible servers by name, with the address they listen on by default. */
const COMPATIBLE: Record<string, CompatibleProvider> = {
  ollama: { baseUrl: 'http://127.0.0.1:11434/v1', keyVariable: null },
  llamacpp: { baseUrl: 'http://127.0.0.1:8080/v1', keyVariable: null },
  lmstudio: { baseUrl: 'http://127.0.0.1:1234/v1', keyVariable: null },
  vllm: { baseUrl: 'http://127.0.0.1:8000/v1', keyVariable: 'VLLM_API_KEY' },
  openrouter: { baseUrl: 'https://openrouter.ai/api/v1', keyVariable: 'OPENROUTER_API_KEY' },
  compatible: { baseUrl: null, keyVariable: 'OPENAI_API_KEY' },
};

export const KNOWN_PROVIDERS = ['openai', 'anthropic', 'google', ...Object.keys(COMPATIBLE)] as const;

/** Google's key: the AI SDK's own variable name, or the shorter one Google's tools use. */
const GOOGLE_KEY_VARIABLES = ['GOOGLE_GENERATIVE_AI_API_KEY', 'GEMINI_API_KEY'];

export interface ModelSpec { provider: string; modelId: string }

/**
 * `PROVIDER:MODEL` or `PROVIDER/MODEL` (the form Inspect users type): the provider ends at the first ':' or '/',
 * so `ollama:qwen2.5-coder:7b` and `openrouter/anthropic/claude-sonnet-4-5` keep the rest as the model id.
 */
export function parseModelSpec(spec: string): ModelSpec {
  const separator = spec.search(/[:/]/);
  if (separator <= 0 || separator === spec.length - 1) {
    throw new ModelSpecError(`--model must be PROVIDER:MODEL or PROVIDER/MODEL (e.g. openai:gpt-4.1-mini, anthropic/claude-sonnet-4-5, ollama:qwen2.5-coder), got '${spec}'`);
  }
  const provider = spec.slice(0, separator);
  if (!(KNOWN_PROVIDERS as readonly string[]).includes(provider)) throw new ModelSpecError(`unknown provider '${provider}'; known: ${KNOWN_PROVIDERS.join(', ')}`);
  return { provider, modelId: spec.slice(separator + 1) };
}

/** The one spelling the lab records and prices a model under: `provider:model`. */
export const canonicalModelName = (spec: ModelSpec): string => `${spec.provider}:${spec.modelId}`;

export interface ModelConnection {
  baseUrl?: string;
  /** Where keys are read from; the process's environment by default (tests pass their own). */
  environment?: Record<string, string | undefined>;
}

export function createLanguageModel(spec: ModelSpec, connection: ModelConnection = {}): LanguageModel {
  const environment = connection.environment ?? process.env;
  const requireKey = (variable: string): string => {
    const key = environment[variable];
    if (!key) throw new ModelSpecError(`${spec.provider} needs ${variable} in the environment`);
    return key;
  };
  if (spec.provider === 'openai') {
    // Chat completions: the wire protocol every compatible server speaks too.
    return createOpenAI({ apiKey: requireKey('OPENAI_API_KEY'), baseURL: connection.baseUrl }).chat(spec.modelId);
  }
  if (spec.provider === 'anthropic') {
    return createAnthropic({ apiKey: requireKey('ANTHROPIC_API_KEY'), baseURL: connection.baseUrl })(spec.modelId);
  }
  if (spec.provider === 'google') {
    const variable = GOOGLE_KEY_VARIABLES.find((name) => environment[name]) ?? GOOGLE_KEY_VARIABLES[0];
    return createGoogleGenerativeAI({ apiKey: requireKey(variable), baseURL: connection.baseUrl })(spec.modelId);
  }
  const compatible = COMPATIBLE[spec.provider];
  const baseURL = connection.baseUrl ?? compatible.baseUrl;
  if (!baseURL) throw new ModelSpecError(`provider '${spec.provider}' needs --base-url`);
  const apiKey = compatible.keyVariable ? environment[compatible.keyVariable] : undefined;
  return createOpenAICompatible({ name: spec.provider, baseURL, apiKey, includeUsage: true }).chatModel(spec.modelId);
}
