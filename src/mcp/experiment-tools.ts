/**
 * The MCP tools that act through the lab: submit experiments (one at a time and wait, or several in flight and
 * wait later), probe a staged change, keep the task's notebook, look at the population and cross two branches,
 * read logs. Every one answers with text the agent can act on; the lab decides what runs and what counts.
 * Is not: the file tools or the server's wiring (server.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ExperimentRow } from '../journal/journal.js';
import { incumbentOf, lineageOf } from '../lab/lineage.js';
import { appendNote, readNotebook } from '../lab/notebook.js';
import { summaryOf } from '../lab/propose.js';
import { formatNotebook } from '../researcher/notebook-text.js';
import { cellsOf, crossoverChange, nextCrossover } from '../researcher/population.js';
import { PROBE_KINDS, type ExperimentSummary, type ProbeKind } from '../researcher/types.js';
import { ToolError } from '../researcher/workbench.js';
import { answer, describeRow, type ServerParts } from './tool-answers.js';

const POLL_MS = 500;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A candidate the lab is done with: finished and, if it claimed a win, decided by the gate. */
const isDecided = (row: ExperimentRow): boolean => row.state === 'finished' && (row.metadata.claim !== true || row.metadata.decidedAt !== undefined);

export function registerExperimentTools(server: McpServer, parts: ServerParts): void {
  const { options, readyMs, rows, row } = parts;
  const { journal, task, researcher } = options;
  const runRow = () => {
    const runId = options.runId();
    const run = runId ? journal.getRun(runId) : undefined;
    if (!run) throw new ToolError('the run has not started yet; call again in a moment');
    return run;
  };
  const summaries = (): ExperimentSummary[] => rows().map((experiment) => summaryOf(experiment, lineageOf(journal, task, experiment)));

  /** Submits the staged change and waits (briefly) for the lab to journal it; returns its row. */
  const submit = async (description: string): Promise<ExperimentRow> => {
    await researcher.waitForTurn(readyMs);
    const { token } = researcher.submit(description);
    for (let waited = 0; waited < 60_000; waited += 50) {
      const found = rows().find((experiment) => experiment.metadata.origin?.token === token);
      if (found) return found;
      await sleep(50);
    }
    throw new ToolError(`the lab did not journal the submission: ${researcher.endReason ?? 'no reason given'}`);
  };

  /** Waits until every experiment is decided, the run ends, or the time is up; reports progress as it goes. */
  const waitFor = async (ids: readonly string[], timeoutMs: number, onProgress?: (message: string) => void) => {
    const deadline = Date.now() + timeoutMs;
    const seen = new Map<string, string>();
    for (;;) {
      const current = ids.map((id) => row(id));
      for (const experiment of current) {
        const state = `${experiment.state}${experiment.outcome ? ` ${experiment.outcome.status}` : ''}${experiment.metadata.decidedAt ? ' decided' : ''}`;
        if (seen.get(experiment.id) !== state) onProgress?.(`#${experiment.seq} ${state}`);
        seen.set(experiment.id, state);
      }
      const done = current.every(isDecided);
      if (done || researcher.endReason || Date.now() >= deadline) {
        const all = rows();
        return {
          experiments: current.map((experiment) => ({
            ...describeRow(experiment),
            decided: isDecided(experiment),
            // Its own re-runs (the claim's side of its confirmation pairs); the incumbent's side is in get_history.
            repeats: all.filter((other) => other.parentId === experiment.id && other.role === 'repeat').map((other) => describeRow(other)),
          })),
          allDecided: done,
          runOver: researcher.endReason,
        };
      }
      await sleep(POLL_MS);
    }
  };

  server.registerTool('submit_experiment', {
    description: 'Submit the staged edits as one experiment and return at once with its id: the lab runs, repeats and gates it. With --parallel N, up to N run at once; read them with wait_for_experiments.',
    inputSchema: { description: z.string().min(3).describe('one line: the idea') },
  }, ({ description }) => answer(async () => describeRow(await submit(description))));

  server.registerTool('wait_for_experiments', {
    description: 'Wait until the given experiments (default: every candidate not yet decided) are decided by the lab, or the timeout: outcomes, repeats, the gate\'s evidence.',
    inputSchema: { experiments: z.array(z.string()).optional(), timeoutSeconds: z.number().positive().max(3600).default(600) },
  }, ({ experiments, timeoutSeconds }, extra) => answer(async () => {
    const ids = experiments ?? rows().filter((experiment) => experiment.role === 'candidate' && !isDecided(experiment)).map((experiment) => experiment.id);
    const token = extra._meta?.progressToken;
    let progress = 0;
    return waitFor(ids, timeoutSeconds * 1000, token === undefined ? undefined : (message) => {
      void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: ++progress, message } }).catch(() => {});
    });
  }));

  server.registerTool('run_experiment', {
    description: 'Run the staged edits as one experiment and answer when the lab has decided: the outcome and metrics, and for a claimed win its repeats and the gate\'s decision.',
    inputSchema: { description: z.string().min(3).describe('one line: the idea') },
  }, ({ description }, extra) => answer(async () => {
    const candidate = await submit(description);
    const token = extra._meta?.progressToken;
    let progress = 0;
    const result = await waitFor([candidate.id], 24 * 3600 * 1000, token === undefined ? undefined : (message) => {
      const label = message.includes('decided') ? `gate: ${message}` : message;
      void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: ++progress, message: label } }).catch(() => {});
    });
    const [experiment] = result.experiments;
    const { repeats, ...rest } = experiment;
    return { experiment: rest, repeats, runOver: result.runOver };
  }));

  server.registerTool('probe', {
    description: 'Try the staged workspace in the sandbox before submitting it: "check" type-checks it, "run" runs it for a few seconds and returns its output, "profile" also times every kernel. A few per proposal; journaled, counted against the budget, never evidence for the gate.',
    inputSchema: { kind: z.enum(PROBE_KINDS as [string, ...string[]]).default('run'), seconds: z.number().positive().max(600).optional() },
  }, ({ kind, seconds }) => answer(async () => {
    const workbench = await researcher.workbench(readyMs);
    const context = await researcher.context(readyMs);
    if (!context.probe) throw new ToolError('probes are not available in this run');
    return context.probe({ kind: kind as ProbeKind, parentId: workbench.parent.id, change: workbench.change(), ...(seconds ? { seconds } : {}) });
  }));

  server.registerTool('read_notebook', { description: 'The task\'s research notebook: lessons written down by earlier episodes, runs, generations and agents.' },
    () => answer(async () => formatNotebook(readNotebook(journal, task.file.name))));

  server.registerTool('write_note', {
    description: 'Write one lesson into the task\'s notebook (what was tried, what the gate said, what to try or avoid next). Every later run of this task sees it.',
    inputSchema: { text: z.string().min(3).max(1200), experiment: z.string().optional().describe('the experiment the lesson is about') },
  }, ({ text, experiment }) => answer(async () => {
    const about = experiment ? row(experiment).id : undefined;
    const entry = appendNote(journal, runRow(), 'mcp', text, about);
    return `noted (entry ${entry.id})`;
  }));

  server.registerTool('get_population', {
    description: 'The run\'s population of ideas: MAP-Elites cells (which files a configuration edits, how many knobs it moved) with each cell\'s best run, and the next crossover of two accepted branches worth trying.',
  }, () => answer(async () => {
    const history = summaries();
    const incumbentRow = rows().length ? incumbentOf(rows()) : null;
    const incumbent = history.find((experiment) => experiment.id === incumbentRow?.id);
    const next = incumbent ? nextCrossover(history, incumbent) : null;
    return {
      incumbent: incumbent?.id ?? null,
      cells: cellsOf(history, task.file.metric.direction).map((cell) => ({ files: cell.files, knobsMoved: cell.knobsMoved, members: cell.members, elite: { id: cell.elite.id, description: cell.elite.description, score: cell.elite.outcome && 'score' in cell.elite.outcome ? cell.elite.outcome.score : null } })),
      nextCrossover: next ? { base: next.base.id, donor: next.donor.id } : null,
    };
  }));

  server.registerTool('crossover', {
    description: 'Stage a crossover: the donor experiment\'s own edits and knob moves laid onto the base (default: the incumbent). Review it, probe it, then submit.',
    inputSchema: { donor: z.string(), base: z.string().optional() },
  }, ({ donor, base }) => answer(async () => {
    const context = await researcher.context(readyMs);
    const history = context.history;
    const baseSummary = base ? history.find((experiment) => experiment.id === base) : context.incumbent;
    const donorSummary = history.find((experiment) => experiment.id === donor);
    if (!baseSummary || !donorSummary) throw new ToolError(`no experiment '${!baseSummary ? base : donor}' in this run`);
    const change = crossoverChange(history, baseSummary, donorSummary);
    if (!change) throw new ToolError(`${donor} adds nothing to ${baseSummary.id} (it is an ancestor, or they share no known root)`);
    const staged = await researcher.stage(readyMs, baseSummary.id, change, { strategy: 'crossover', parents: [baseSummary.id, donorSummary.id] });
    return `workspace of ${baseSummary.id} with ${donor}'s changes: ${staged}`;
  }));

  server.registerTool('read_logs', { description: 'The end of an experiment\'s captured stdout or stderr.', inputSchema: { experiment: z.string(), stream: z.enum(['stdout', 'stderr']).default('stderr') } },
    ({ experiment, stream }) => answer(async () => {
      const found = row(experiment);
      const path = found.logPath ? join(found.logPath, `${stream}.log`) : null;
      if (!path || !existsSync(path)) return `(no ${stream} captured for ${experiment})`;
      const log = readFileSync(path, 'utf8');
      return log.length > 8000 ? `[... ${log.length - 8000} earlier characters cut]\n${log.slice(-8000)}` : log || `(${stream} is empty)`;
    }));

}
