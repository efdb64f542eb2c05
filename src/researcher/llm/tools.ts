/**
 * The model's tools, as AI SDK tool definitions over a Workbench and the lab's context. Every refusal comes back as
 * text starting with "Error:" so the model can act on it; the SDK itself answers a malformed call (bad JSON, wrong
 * fields) the same way. `run_experiment` does not run anything here: it hands the staged change to the researcher,
 * which ends the episode (unless the lab says it repeats an earlier one); `probe` asks the lab for a short
 * sandboxed trial.
 */
import { tool } from 'ai';
import { z } from 'zod';
import { ChangeError } from '../../task/errors.js';
import { formatNotebook } from '../notebook-text.js';
import { type ProbeResult, PROBE_KINDS, type ResearchContext } from '../types.js';
import { ToolError, type Workbench } from '../workbench.js';
import { describeEvidence, describeExperiment } from './history.js';

export interface Submission { description: string }

const optionalExperiment = z.string().optional().describe('an experiment id from get_history; default: the workspace you are editing');

/** Runs a tool body; refusals the model can fix become its answer, bugs still throw. */
async function answer(body: () => string | Promise<string>): Promise<string> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof ToolError || error instanceof ChangeError) return `Error: ${error.message}`;
    throw error;
  }
}

/** A probe's result as the model reads it. */
export function describeProbe(result: ProbeResult): string {
  const parts = [`${result.kind} probe: ${result.status} — ${result.summary}`, `probes left in this episode: ${result.probesLeft}`];
  if (result.profile) parts.push(`per-kernel profile:\n${result.profile}`);
  if (result.stdout.trim()) parts.push(`stdout (end):\n${result.stdout.slice(-3000)}`);
  if (result.stderr.trim()) parts.push(`stderr (end):\n${result.stderr.slice(-3000)}`);
  return parts.join('\n\n');
}

export interface ToolEnvironment {
  workbench: Workbench;
  context: ResearchContext;
  onSubmit: (submission: Submission) => void;
  historyText: () => string;
}

export function createTools({ workbench, context, onSubmit, historyText }: ToolEnvironment) {
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
      description: 'The run so far: the incumbent, the best and the most recent experiments with the gate\'s numbers, the budget left.',
      inputSchema: z.object({}),
      execute: async () => answer(historyText),
    }),
    get_experiment: tool({
      description: 'One experiment in full, of this run or an earlier run of this task: its change, its diff, outcome, metrics and the gate\'s evidence.',
      inputSchema: z.object({ experiment: z.string() }),
      execute: async ({ experiment }) => answer(() => {
        const found = workbench.experiment(experiment, { earlierRuns: true });
        const evidence = found.evidence ? `\ngate: ${describeEvidence(found.evidence)} ${found.evidence.detail.slice(0, 400)}` : '';
        return `${describeExperiment(found, 2000)}${evidence}\nknobs: ${JSON.stringify(found.assignment)}\nmetrics: ${JSON.stringify(found.outcome?.metrics ?? {})}\nchange: ${JSON.stringify(found.change).slice(0, 4000)}\ndiff:\n${workbench.readDiff(found.id).slice(0, 12_000)}`;
      }),
    }),
    read_logs: tool({
      description: 'The end of an experiment\'s captured stdout or stderr.',
      inputSchema: z.object({ experiment: z.string(), stream: z.enum(['stdout', 'stderr']).default('stderr') }),
      execute: async ({ experiment, stream }) => answer(() => workbench.readLog(experiment, stream)),
    }),
    probe: tool({
      description: 'Try the staged workspace in the sandbox before submitting: "check" type-checks it, "run" runs it for a few seconds and returns its output, "profile" also times every kernel. A few per episode; never evidence for the gate.',
      inputSchema: z.object({ kind: z.enum(PROBE_KINDS as [string, ...string[]]).default('run'), seconds: z.number().positive().max(600).optional() }),
      execute: async ({ kind, seconds }) => answer(async () => {
        if (!context.probe) throw new ToolError('probes are not available in this run');
        const result = await context.probe({ kind: kind as ProbeResult['kind'], parentId: workbench.parent.id, change: workbench.change(), ...(seconds ? { seconds } : {}) });
        return describeProbe(result);
      }),
    }),
    read_notebook: tool({
      description: 'The task\'s research notebook: lessons earlier episodes, runs and generations wrote down.',
      inputSchema: z.object({}),
      execute: async () => answer(() => formatNotebook(context.notebook?.entries ?? [])),
    }),
    write_note: tool({
      description: 'Write one lesson into the task\'s notebook (one or two sentences: what was tried, what the gate said, what to try or avoid). Later episodes, runs and generations read it.',
      inputSchema: z.object({ text: z.string().min(3).max(1200), experiment: z.string().optional().describe('the experiment the lesson is about') }),
      execute: async ({ text, experiment }) => answer(() => {
        if (!context.notebook) throw new ToolError('the notebook is not available in this run');
        const about = experiment ? workbench.experiment(experiment).id : undefined;
        const entry = context.notebook.write(text, about);
        return `noted (entry ${entry.id})`;
      }),
    }),
    run_experiment: tool({
      description: 'Submit the staged edits as one experiment. Ends this episode; the lab runs, scores and gates it.',
      inputSchema: z.object({ description: z.string().min(3).describe('one line: the idea, e.g. "delay 1500ms → 200ms"') }),
      execute: async ({ description }) => answer(() => {
        if (workbench.editCount === 0) throw new ToolError('nothing is staged: make your change with edit_file first');
        const refusal = context.checkProposal?.({ parentId: workbench.parent.id, change: workbench.change(), description });
        if (refusal) throw new ToolError(`the lab would not run this: ${refusal}`);
        onSubmit({ description: description.trim().slice(0, 200) });
        return `submitted: ${workbench.describeChange()}. The lab will run it; this episode is over.`;
      }),
    }),
  };
}
