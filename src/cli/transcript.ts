/**
 * The transcript of an experiment's model calls as text (`successor show EXP --calls`): one header per call (model,
 * step, tokens, dollars, time, retries) and its messages — the new prompt messages, then the response, tool calls
 * and tool results clipped to a readable length. Each `llm.call` event stores only what a call added to the
 * episode's conversation, so the calls read in order are the whole conversation.
 * Everything here is what a model wrote or read: untrusted text. Control characters (terminal escapes included)
 * are shown as \xNN, never sent to the terminal as they are.
 * Is not: where the calls come from (the journal's events, by the experiment's metadata) nor their sums (model-usage.ts).
 */
import { z } from 'zod';
import type { EventRow } from '../journal/journal.js';
import { formatDollars } from '../journal/model-usage.js';
import { formatNumber } from './common.js';

const ModelCall = z.looseObject({
  model: z.string().optional(),
  mode: z.string().optional(),
  parentId: z.string().optional(),
  step: z.number().optional(),
  system: z.string().optional(),
  prompt: z.array(z.unknown()).default([]),
  response: z.array(z.unknown()).default([]),
  finishReason: z.string().optional(),
  usage: z.looseObject({ inputTokens: z.number().optional(), outputTokens: z.number().optional() }).optional(),
  costDollars: z.number().optional(),
  durationMs: z.number().optional(),
  retries: z.array(z.unknown()).optional(),
});
export type ModelCall = z.infer<typeof ModelCall>;

/** Control characters of untrusted text as visible escapes; newlines and tabs stay. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (character) => `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function clip(text: string, limit: number): string {
  if (text.length <= limit) return printable(text);
  return `${printable(text.slice(0, limit))} … (${text.length - limit} more characters; --json has all of it)`;
}

const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** One message of the AI SDK's shape ({role, content: text | parts}) as lines. */
function messageLines(message: unknown, limit: number): string[] {
  const { role, content } = (typeof message === 'object' && message !== null ? message : {}) as { role?: unknown; content?: unknown };
  const who = typeof role === 'string' ? role : '?';
  if (typeof content === 'string') return [`${who}: ${clip(content, limit)}`];
  if (!Array.isArray(content)) return [`${who}: ${clip(asText(content), limit)}`];
  return content.map((raw) => {
    const part = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    switch (part.type) {
      case 'text':
      case 'reasoning':
        return `${who}${part.type === 'reasoning' ? ' (reasoning)' : ''}: ${clip(asText(part.text), limit)}`;
      case 'tool-call':
        return `${who} -> ${printable(asText(part.toolName))}(${clip(asText(part.input), limit)})`;
      case 'tool-result': {
        const output = (part.output ?? {}) as { value?: unknown };
        return `tool <- ${printable(asText(part.toolName))}: ${clip(asText(output.value ?? part.output), limit)}`;
      }
      default:
        return `${who}: [${printable(asText(part.type))}]`;
    }
  });
}

export function parseModelCall(event: EventRow): ModelCall {
  const parsed = ModelCall.safeParse(event.payload);
  return parsed.success ? parsed.data : { prompt: [], response: [] };
}

/** The header line of one call: what it was and what it cost. */
export function callHeader(index: number, event: EventRow, call: ModelCall): string {
  const count = (value: number | undefined) => Math.round(value ?? 0).toLocaleString('en-US');
  const tokens = `${count(call.usage?.inputTokens)} in + ${count(call.usage?.outputTokens)} out tokens`;
  const parts = [
    `call ${index + 1} (event ${event.id}, ${event.at})`,
    call.model ?? 'unknown model',
    call.step === undefined ? null : `step ${call.step}${call.mode ? ` (${call.mode} episode)` : ''}`,
    tokens,
    formatDollars(call.costDollars ?? 0),
    call.durationMs === undefined ? null : `${formatNumber(call.durationMs / 1000)}s`,
    call.finishReason ? `finished: ${call.finishReason}` : null,
    call.retries?.length ? `${call.retries.length} retr${call.retries.length === 1 ? 'y' : 'ies'}` : null,
  ];
  return `=== ${parts.filter((part) => part !== null).join(', ')}`;
}

/** The whole transcript as text; `limit` clips each message part (the --json output is never clipped). */
export function formatTranscript(events: readonly EventRow[], limit = 1500): string {
  if (events.length === 0) return 'no model calls: this experiment was not proposed by a model (or its calls were not journaled)\n';
  const lines: string[] = [];
  events.forEach((event, index) => {
    const call = parseModelCall(event);
    lines.push(callHeader(index, event, call));
    if (call.system) lines.push(`system: (${call.system.length} characters: src/researcher/llm/prompts/system.md)`);
    for (const message of call.prompt) lines.push(...messageLines(message, limit));
    lines.push('--- response');
    for (const message of call.response) lines.push(...messageLines(message, limit));
  });
  return `${lines.join('\n')}\n`;
}
