/**
 * What the MCP server's tools share: the server's options, the way a tool answers (a refusal the agent can act on
 * becomes an error result; a bug throws), and an experiment row as the agent reads it.
 * Is not: any tool (server.ts, experiment-tools.ts).
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ExperimentRow, Journal } from '../journal/journal.js';
import type { LabEvent } from '../lab/events.js';
import type { RunOptions } from '../lab/options.js';
import { ToolError } from '../researcher/workbench.js';
import { ChangeError } from '../task/errors.js';
import type { RunId } from '../task/ids.js';
import type { Task } from '../task/loader.js';
import { isScored } from '../task/outcome.js';
import type { McpResearcher } from './researcher.js';

export interface LabServerOptions {
  journal: Journal;
  task: Task;
  researcher: McpResearcher;
  /** The run's options (approval policy, parallel, probes), for get_task. */
  options?: RunOptions;
  /** The run the loop is on, once it started. */
  runId: () => RunId | null;
  /** Lab events, for progress notifications while a tool waits. */
  subscribe: (listener: (event: LabEvent) => void) => () => void;
  /** How long a file tool waits for the lab to be ready for a proposal (baseline calibration). */
  readyTimeoutMs?: number;
  version: string;
}

export const text = (value: string | unknown): CallToolResult => ({ content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) }] });

/** Refusals the agent can act on become an error result; anything else is a bug and throws. */
export async function answer(body: () => Promise<CallToolResult | string | unknown>): Promise<CallToolResult> {
  try {
    const result = await body();
    return typeof result === 'object' && result !== null && 'content' in result ? (result as CallToolResult) : text(result);
  } catch (error) {
    if (error instanceof ToolError || error instanceof ChangeError) return { content: [{ type: 'text', text: `Error: ${error.message}` }], isError: true };
    throw error;
  }
}

/** An experiment as the agent reads it: outcome, metrics, whether it claimed a win, the gate's evidence, its state. */
export function describeRow(row: ExperimentRow): Record<string, unknown> {
  const outcome = row.outcome;
  return {
    id: row.id,
    seq: row.seq,
    parentId: row.parentId,
    role: row.role,
    description: row.description,
    state: row.state,
    status: outcome?.status ?? null,
    score: outcome && isScored(outcome) ? outcome.score : null,
    reason: outcome && 'reason' in outcome ? outcome.reason : null,
    metrics: outcome?.metrics ?? {},
    claimedWin: row.metadata.claim === true,
    gate: row.metadata.gate ?? null,
    approval: row.metadata.approval ?? null,
    accepted: row.accepted,
    ...(row.metadata.duplicateOf ? { duplicateOf: row.metadata.duplicateOf } : {}),
  };
}

export interface ServerParts {
  options: LabServerOptions;
  readyMs: number;
  rows(): ExperimentRow[];
  /** An experiment of this run, or of an earlier run of the same task. */
  row(id: string): ExperimentRow;
}

