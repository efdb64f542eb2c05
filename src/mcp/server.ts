/**
 * The lab as an MCP server: tools to read the task, list, read and edit workspace files, run an experiment and
 * read results. An external agent is the researcher; run_experiment goes through the same loop as every other
 * researcher's proposals (harness, sandbox, gate, budget, audit log) and answers once the lab has decided.
 * Is not: the transport (src/cli/mcp.ts wires stdio) nor the loop (src/lab).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ExperimentRow, Journal } from '../journal/journal.js';
import type { LabEvent } from '../lab/events.js';
import { ChangeError } from '../task/errors.js';
import type { RunId } from '../task/ids.js';
import type { Task } from '../task/loader.js';
import { isScored } from '../task/outcome.js';
import { ToolError } from '../researcher/workbench.js';
import type { McpResearcher } from './researcher.js';

export interface LabServerOptions {
  journal: Journal;
  task: Task;
  researcher: McpResearcher;
  /** The run the loop is on, once it started. */
  runId: () => RunId | null;
  /** Lab events, for progress notifications while run_experiment waits. */
  subscribe: (listener: (event: LabEvent) => void) => () => void;
  /** How long a file tool waits for the lab to be ready for a proposal (baseline calibration). */
  readyTimeoutMs?: number;
  version: string;
}

const text = (value: string | unknown): CallToolResult => ({ content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) }] });

/** Refusals the agent can act on become an error result; anything else is a bug and throws. */
async function answer(body: () => Promise<CallToolResult | string | unknown>): Promise<CallToolResult> {
  try {
    const result = await body();
    return typeof result === 'object' && result !== null && 'content' in result ? (result as CallToolResult) : text(result);
  } catch (error) {
    if (error instanceof ToolError || error instanceof ChangeError) return { content: [{ type: 'text', text: `Error: ${error.message}` }], isError: true };
    throw error;
  }
}

function describeRow(row: ExperimentRow): Record<string, unknown> {
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
    accepted: row.accepted,
  };
}

export function createLabServer(options: LabServerOptions): McpServer {
  const { journal, task, researcher } = options;
  const readyMs = options.readyTimeoutMs ?? 120_000;
  const server = new McpServer({ name: 'successor', version: options.version });
  const rows = (): ExperimentRow[] => {
    const runId = options.runId();
    return runId ? journal.listExperiments(runId) : [];
  };
  const row = (id: string): ExperimentRow => rows().find((experiment) => experiment.id === id) ?? (() => { throw new ToolError(`no experiment '${id}' in this run; get_history lists them`); })();
  const experimentParam = z.string().optional().describe('an experiment id from get_history; default: the workspace you are editing');

  server.registerTool('get_task', { description: 'The task: instructions, metric, knobs, which files are editable, the run\'s state.' }, () => answer(async () => ({
    name: task.file.name,
    title: task.file.title,
    instructions: task.instructions,
    metric: task.file.metric,
    knobs: task.file.space,
    editable: task.file.workspace.editable,
    configFile: task.file.run.configFile ?? null,
    runId: options.runId(),
    runOver: researcher.endReason,
    howTo: 'list_files / read_file, stage changes with edit_file (exact search/replace), then run_experiment; the lab runs, repeats and gates it.',
  })));

  server.registerTool('list_files', { description: 'Files of the workspace you are editing (the incumbent plus your staged edits), or of another experiment.', inputSchema: { experiment: experimentParam } },
    ({ experiment }) => answer(async () => (await researcher.workbench(readyMs)).listFiles(experiment).join('\n')));

  server.registerTool('read_file', { description: 'A file of the workspace you are editing, or of another experiment.', inputSchema: { path: z.string(), experiment: experimentParam } },
    ({ path, experiment }) => answer(async () => (await researcher.workbench(readyMs)).readFile(path, experiment)));

  server.registerTool('edit_file', {
    description: 'Stage one exact search/replace edit: `search` must match a unique block of the current file exactly (whitespace included); an empty `search` creates a new file. Knob values in the config file become knob settings.',
    inputSchema: { path: z.string(), search: z.string(), replace: z.string() },
  }, ({ path, search, replace }) => answer(async () => (await researcher.workbench(readyMs)).editFile(path, search, replace)));

  server.registerTool('reset_edits', { description: 'Drop every staged edit; optionally start from another experiment\'s workspace instead of the incumbent.', inputSchema: { from: z.string().optional() } },
    ({ from }) => answer(async () => {
      const workbench = await researcher.workbench(readyMs, from);
      workbench.reset();
      return `no edits staged; workspace of ${workbench.parent.id}`;
    }));

  server.registerTool('run_experiment', {
    description: 'Run the staged edits as one experiment. Answers when the lab has decided: the outcome and metrics, and for a claimed win its repeats and the gate\'s decision.',
    inputSchema: { description: z.string().min(3).describe('one line: the idea') },
  }, ({ description }, extra) => answer(async () => {
    await researcher.waitForTurn(readyMs);
    const before = Math.max(0, ...rows().map((experiment) => experiment.seq));
    researcher.submit(description);
    const progressToken = extra._meta?.progressToken;
    let progress = 0;
    const unsubscribe = options.subscribe((event) => {
      if (progressToken === undefined || event.type === 'note') return;
      const message = event.type === 'gate' ? `gate: ${event.accepted ? 'accepted' : 'rejected'}` : `#${event.experiment.seq} ${event.experiment.role} ${event.type.split('.')[1]}`;
      void extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: ++progress, message } }).catch(() => {});
    });
    try {
      await researcher.settled();
    } finally {
      unsubscribe();
    }
    const experiments = rows();
    const candidate = experiments.find((experiment) => experiment.seq > before && experiment.role === 'candidate');
    if (!candidate) throw new ToolError(`the lab did not run it: ${researcher.endReason ?? 'unknown reason'}`);
    const repeats = experiments.filter((experiment) => experiment.parentId === candidate.id && experiment.role === 'repeat').map(describeRow);
    return { experiment: describeRow(journal.getExperiment(candidate.id) ?? candidate), repeats, runOver: researcher.endReason };
  }));

  server.registerTool('get_history', { description: 'Every experiment of the run so far, oldest first: outcome, score, gate decisions.' }, () => answer(async () => {
    const all = rows();
    return { runId: options.runId(), runOver: researcher.endReason, experiments: all.slice(-60).map(describeRow), olderNotShown: Math.max(0, all.length - 60) };
  }));

  server.registerTool('get_results', { description: 'One experiment in full: outcome, metrics, change, diff, gate decision.', inputSchema: { experiment: z.string() } },
    ({ experiment }) => answer(async () => {
      const found = row(experiment);
      return { ...describeRow(found), change: found.change, diff: found.diff.slice(0, 20_000) };
    }));

  server.registerTool('read_logs', { description: 'The end of an experiment\'s captured stdout or stderr.', inputSchema: { experiment: z.string(), stream: z.enum(['stdout', 'stderr']).default('stderr') } },
    ({ experiment, stream }) => answer(async () => {
      const found = row(experiment);
      const path = found.logPath ? join(found.logPath, `${stream}.log`) : null;
      if (!path || !existsSync(path)) return `(no ${stream} captured for ${experiment})`;
      const log = readFileSync(path, 'utf8');
      return log.length > 8000 ? `[... ${log.length - 8000} earlier characters cut]\n${log.slice(-8000)}` : log || `(${stream} is empty)`;
    }));

  return server;
}
