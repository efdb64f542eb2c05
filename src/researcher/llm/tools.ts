/**
 * The model's tools, as AI SDK tool definitions over a Workbench. Every refusal comes back as text starting with
 * "Error:" so the model can act on it; the SDK itself answers a malformed call (bad JSON, wrong fields) the same way.
 * `run_experiment` does not run anything here: it hands the staged change to the researcher, which ends the episode.
 */
import { tool } from 'ai';
import { z } from 'zod';
import { ChangeError } from '../../task/errors.js';
import { describeExperiment } from './history.js';
import { ToolError, type Workbench } from '../workbench.js';

export interface Submission { description: string }

const optionalExperiment = z.string().optional().describe('an experiment id from get_history; default: the workspace you are editing');

/** Runs a tool body; refusals the model can fix become its answer, bugs still throw. */
function answer(body: () => string): string {
  try {
    return body();
  } catch (error) {
    if (error instanceof ToolError || error instanceof ChangeError) return `Error: ${error.message}`;
    throw error;
  }
}

export function createTools(workbench: Workbench, onSubmit: (submission: Submission) => void, historyText: () => string) {
  return {
    list_files: tool({
      description: 'List the files of the workspace (with your staged edits), or of another experiment.',
      inputSchema: z.object({ experiment: optionalExperiment }),
      execute: async ({ experiment }) => answer(() => workbench.listFiles(experiment).join('\n')),
    }),
    read_file: tool({
      description: 'Read a file of the workspace (with your staged edits), or of another experiment.',
      inputSchema: z.object({ path: z.string().describe('relative to the workspace root'), experiment: optionalExperiment }),
      execute: async ({ path, experiment }) => answer(() => workbench.readFile(path, experiment)),
    }),
    edit_file: tool({
      description: 'Stage one exact search/replace edit. `search` must match a unique block of the current file exactly; an empty `search` creates a new file.',
      inputSchema: z.object({ path: z.string(), search: z.string(), replace: z.string() }),
      execute: async ({ path, search, replace }) => answer(() => workbench.editFile(path, search, replace)),
    }),
    reset_edits: tool({
      description: 'Drop every staged edit and start again from the episode\'s workspace.',
      inputSchema: z.object({}),
      execute: async () => answer(() => {
        workbench.reset();
        return 'all staged edits dropped';
      }),
    }),
    get_history: tool({
      description: 'The run so far: the incumbent, the best and the most recent experiments, the budget left.',
      inputSchema: z.object({}),
      execute: async () => answer(historyText),
    }),
    get_experiment: tool({
      description: 'One experiment in full: its change, outcome and metrics.',
      inputSchema: z.object({ experiment: z.string() }),
      execute: async ({ experiment }) => answer(() => {
        const found = workbench.experiment(experiment);
        return `${describeExperiment(found, 2000)}\nchange: ${JSON.stringify(found.change).slice(0, 6000)}\nknobs: ${JSON.stringify(found.assignment)}\nmetrics: ${JSON.stringify(found.outcome?.metrics ?? {})}`;
      }),
    }),
    read_logs: tool({
      description: 'The end of an experiment\'s captured stdout or stderr.',
      inputSchema: z.object({ experiment: z.string(), stream: z.enum(['stdout', 'stderr']).default('stderr') }),
      execute: async ({ experiment, stream }) => answer(() => workbench.readLog(experiment, stream)),
    }),
    run_experiment: tool({
      description: 'Submit the staged edits as one experiment. Ends this episode; the lab runs, scores and gates it.',
      inputSchema: z.object({ description: z.string().min(3).describe('one line: the idea, e.g. "delay 1500ms → 200ms"') }),
      execute: async ({ description }) => answer(() => {
        if (workbench.editCount === 0) throw new ToolError('nothing is staged: make your change with edit_file first');
        onSubmit({ description: description.trim().slice(0, 200) });
        return `submitted: ${workbench.describeChange()}. The lab will run it; this episode is over.`;
      }),
    }),
  };
}

