/**
 * The llm researcher: one propose() is one agent episode. It picks a node in AIDE's manner (strategy.ts), gives
 * the model the task, a bounded history and tools over a workbench of the parent's files, and loops model call ->
 * tool calls until the model calls run_experiment; the staged change becomes the Proposal. Every call is retried
 * on transient faults (retry.ts), metered against token and dollar budgets (budget.ts) and journaled through
 * `context.record`. Bounded everywhere: steps per episode, nudges, retries, characters of context.
 * Is not: the runner or the judge of its proposals (the lab runs, scores and gates them).
 */
import { generateText, type LanguageModel, type ModelMessage, stepCountIs, streamText, type ToolSet } from 'ai';
import { isScored } from '../../task/outcome.js';
import type { Proposal, ResearchContext, Researcher } from '../types.js';
import { type BudgetLimits, type Prices, type UsageSnapshot, UsageMeter } from './budget.js';
import { summariseHistory } from './history.js';
import { loadPrompt, renderPrompt } from './prompts.js';
import { DEFAULT_RETRY, type RetryOptions, withRetries } from './retry.js';
import { DEFAULT_STRATEGY, type NodeChoice, type StrategyOptions, chooseNode } from './strategy.js';
import { type Submission, createTools } from './tools.js';
import { Workbench } from '../workbench.js';

export interface LlmResearcherOptions extends BudgetLimits {
  model: LanguageModel;
  /** `provider:model`, for transcripts and prices. */
  modelName: string;
  prices: Prices | null;
  /** Stream responses (server-sent events) instead of waiting for whole ones. */
  stream?: boolean;
  maxStepsPerEpisode?: number;
  maxNudges?: number;
  maxOutputTokens?: number;
  /** Older tool results are elided once an episode's messages exceed this many characters. */
  contextChars?: number;
  retry?: Partial<Omit<RetryOptions, 'signal'>>;
  strategy?: Partial<StrategyOptions>;
  /** Usage of this run's earlier calls, when it is resumed: budgets count on from there. */
  alreadySpent?: UsageSnapshot;
}

interface CallResult {
  messages: ModelMessage[];
  text: string;
  toolCalls: { toolName: string; input: unknown }[];
  finishReason: string;
  usage: { inputTokens: number; outputTokens: number };
}

const ELIDED = '[elided to keep the context bounded; call the tool again if you need it]';

export class LlmResearcher implements Researcher {
  readonly name = 'llm';
  readonly meter: UsageMeter;

  constructor(private readonly options: LlmResearcherOptions) {
    this.meter = new UsageMeter({ maxTokens: options.maxTokens, maxDollars: options.maxDollars }, options.prices, options.alreadySpent);
  }

  async propose(context: ResearchContext): Promise<Proposal | null> {
    context.signal.throwIfAborted();
    const record = context.record ?? (() => 0);
    if (this.meter.spent()) {
      record('llm.budget', { reason: this.meter.spent(), ...this.meter.snapshot() });
      return null;
    }
    const choice = chooseNode(context, { ...DEFAULT_STRATEGY, ...this.options.strategy });
    const workbench = new Workbench(context, choice.parent);
    let submission: Submission | null = null;
    const historyText = () => summariseHistory(context);
    const tools = createTools(workbench, (submitted) => (submission = submitted), historyText);
    const messages: ModelMessage[] = [{ role: 'user', content: this.episodePrompt(context, choice, workbench, historyText()) }];
    const maxSteps = this.options.maxStepsPerEpisode ?? 24;
    let nudges = 0;
    let recorded = 0;
    for (let step = 0; step < maxSteps && !context.signal.aborted; step++) {
      const spent = this.meter.spent();
      if (spent) {
        record('llm.budget', { reason: spent, ...this.meter.snapshot() });
        return null;
      }
      this.boundContext(messages);
      const startedMs = Date.now();
      const retries: { attempt: number; delayMs: number; reason: string }[] = [];
      const result = await withRetries((signal) => this.call(messages, tools, signal), {
        ...DEFAULT_RETRY,
        ...this.options.retry,
        signal: context.signal,
        onRetry: (event) => retries.push(event),
      });
      const cost = this.meter.add(result.usage);
      record('llm.call', {
        model: this.options.modelName,
        mode: choice.mode,
        parentId: choice.parent.id,
        step,
        // Each call's prompt is the episode's previous prompt plus these new messages (the first call: all of it).
        ...(step === 0 ? { system: loadPrompt('system') } : {}),
        prompt: messages.slice(recorded) as unknown as Record<string, unknown>[],
        response: result.messages as unknown as Record<string, unknown>[],
        finishReason: result.finishReason,
        usage: result.usage,
        costDollars: cost,
        durationMs: Date.now() - startedMs,
        retries,
      });
      messages.push(...result.messages);
      recorded = messages.length;
      if (submission) return this.proposal(choice, workbench, submission);
      const calledTools = result.messages.some((message) => message.role === 'tool');
      if (!calledTools) {
        // A model that answers in prose has stopped early: nudge it, a bounded number of times.
        if (nudges >= (this.options.maxNudges ?? 2)) break;
        nudges++;
        messages.push({ role: 'user', content: loadPrompt('nudge') });
      }
    }
    context.signal.throwIfAborted();
    // Out of steps or nudges: a staged change is still worth running; with none, this researcher has nothing to try.
    if (workbench.editCount > 0) return this.proposal(choice, workbench, { description: `${workbench.describeChange()} (submitted by the lab: the model stopped)` });
    record('llm.gave-up', { mode: choice.mode, parentId: choice.parent.id, steps: maxSteps, nudges });
    return null;
  }

  private proposal(choice: NodeChoice, workbench: Workbench, submission: Submission): Proposal {
    return { parentId: choice.parent.id, change: workbench.change(), description: `${choice.mode}: ${submission.description}` };
  }

  private episodePrompt(context: ResearchContext, choice: NodeChoice, workbench: Workbench, history: string): string {
    const values: Record<string, string> = {
      taskName: context.task.name,
      instructions: context.task.instructions.trim(),
      history,
      parentId: choice.parent.id,
      parentDescription: choice.parent.description,
      metricName: context.task.metric.name,
    };
    if (choice.mode !== 'debug' || !choice.failed) return renderPrompt(choice.mode === 'debug' ? 'improve' : choice.mode, values);
    const outcome = choice.failed.outcome;
    return renderPrompt('debug', {
      ...values,
      failedId: choice.failed.id,
      failedDescription: choice.failed.description,
      failure: !outcome ? 'pending' : isScored(outcome) ? `${outcome.status}` : `${outcome.status}: ${outcome.reason.slice(0, 2000)}`,
      stderr: workbench.readLog(choice.failed.id, 'stderr', 3000),
    });
  }

  /** Replaces the oldest tool results' text until the episode fits; the latest exchange is always kept whole. */
  private boundContext(messages: ModelMessage[]): void {
    const limit = this.options.contextChars ?? 120_000;
    let size = JSON.stringify(messages).length;
    for (let index = 1; index < messages.length - 2 && size > limit; index++) {
      const message = messages[index];
      if (message.role !== 'tool') continue;
      for (const part of message.content) {
        if (part.type !== 'tool-result' || (part.output.type === 'text' && part.output.value === ELIDED)) continue;
        const before = JSON.stringify(part.output).length;
        part.output = { type: 'text', value: ELIDED };
        size -= before - JSON.stringify(part.output).length;
      }
    }
  }

  private async call(messages: ModelMessage[], tools: ToolSet, signal: AbortSignal): Promise<CallResult> {
    const settings = {
      model: this.options.model,
      system: loadPrompt('system'),
      messages,
      tools,
      stopWhen: stepCountIs(1),
      maxRetries: 0,
      maxOutputTokens: this.options.maxOutputTokens ?? 4096,
      abortSignal: signal,
    };
    if (!this.options.stream) {
      const result = await generateText(settings);
      return {
        messages: result.response.messages,
        text: result.text,
        toolCalls: result.toolCalls.map((call) => ({ toolName: call.toolName, input: call.input })),
        finishReason: result.finishReason,
        usage: { inputTokens: result.usage.inputTokens ?? 0, outputTokens: result.usage.outputTokens ?? 0 },
      };
    }
    let streamError: unknown = null;
    const result = streamText({ ...settings, onError: ({ error }) => { streamError ??= error; } });
    for await (const part of result.fullStream) {
      if (part.type === 'error') streamError ??= part.error;
    }
    if (streamError) throw streamError;
    const [response, text, toolCalls, finishReason, usage] = await Promise.all([result.response, result.text, result.toolCalls, result.finishReason, result.usage]);
    return {
      messages: response.messages,
      text,
      toolCalls: toolCalls.map((call) => ({ toolName: call.toolName, input: call.input })),
      finishReason,
      usage: { inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0 },
    };
  }
}
