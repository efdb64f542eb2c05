/**
 * The lab as an MCP server: tools to read the task (knob ranges included), list, read and edit workspace files,
 * probe a staged change, keep the task's notebook, look at the population, cross two branches, submit experiments
 * (several in flight with --parallel) and read results with the gate's evidence. An external agent is the
 * researcher; every submission goes through the same loop as every other researcher's proposals (harness, sandbox,
 * gate, budget, audit log, the lab's refusal of repeats).
 * Is not: the transport (src/cli/mcp.ts wires stdio), the loop (src/lab), or the experiment tools (experiment-tools.ts).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ExperimentRow } from '../journal/journal.js';
import { ToolError } from '../researcher/workbench.js';
import { registerExperimentTools } from './experiment-tools.js';
import { type LabServerOptions, answer, describeRow } from './tool-answers.js';

export type { LabServerOptions } from './tool-answers.js';

export function createLabServer(options: LabServerOptions): McpServer {
  const { journal, task, researcher } = options;
  const readyMs = options.readyTimeoutMs ?? 120_000;
  const server = new McpServer({ name: 'successor', version: options.version });
  const rows = (): ExperimentRow[] => {
    const runId = options.runId();
    return runId ? journal.listExperiments(runId) : [];
  };
  const row = (id: string): ExperimentRow => {
    const found = rows().find((experiment) => experiment.id === id) ?? journal.getExperiment(id as ExperimentRow['id']);
    const run = found ? journal.getRun(found.runId) : undefined;
    if (!found || run?.task !== task.file.name) throw new ToolError(`no experiment '${id}' in this run or an earlier run of this task; get_history lists them`);
    return found;
  };
  const experimentParam = z.string().optional().describe('an experiment id from get_history; default: the workspace you are editing');

  server.registerTool('get_task', { description: 'The task: instructions, metric, knobs with their ranges, editable files, the run\'s policies (approval, parallel, probes) and state.' }, () => answer(async () => ({
    name: task.file.name,
    title: task.file.title,
    instructions: task.instructions,
    metric: task.file.metric,
    knobs: task.file.space,
    editable: task.file.workspace.editable,
    configFile: task.file.run.configFile ?? null,
    runId: options.runId(),
    runOver: researcher.endReason,
    policies: options.options ? { approval: options.options.approval, parallel: options.options.parallel, probesPerProposal: options.options.probes.perProposal, probeCapSeconds: options.options.probes.capSeconds } : null,
    howTo: 'list_files / read_file, stage changes with edit_file (exact search/replace), try them with probe, then submit_experiment (returns at once; several may be in flight with --parallel) and wait_for_experiments, or run_experiment (submits and waits). write_note keeps lessons for later runs.',
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

  server.registerTool('get_history', { description: 'Every experiment of the run so far, oldest first: outcome, score, gate decisions and evidence.' }, () => answer(async () => {
    const all = rows();
    return { runId: options.runId(), runOver: researcher.endReason, experiments: all.slice(-60).map(describeRow), olderNotShown: Math.max(0, all.length - 60) };
  }));

  server.registerTool('get_results', { description: 'One experiment in full (this run or an earlier run of this task): outcome, metrics, change, diff, the gate\'s evidence.', inputSchema: { experiment: z.string() } },
    ({ experiment }) => answer(async () => {
      const found = row(experiment);
      return { ...describeRow(found), runId: found.runId, change: found.change, diff: found.diff.slice(0, 20_000) };
    }));

  registerExperimentTools(server, { options, readyMs, rows, row });
  return server;
}
