/**
 * A ResearchContext over the real sleepy task for llm researcher tests: the baseline experiment only, with the
 * task's workspace materialised (as the lab does) into a temporary folder and a captured log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExperimentId } from '../../src/task/ids.js';
import { loadTask } from '../../src/task/loader.js';
import { defaultAssignment } from '../../src/task/space.js';
import { materialiseWorkspace } from '../../src/task/workspace.js';
import type { ExperimentSummary, ResearchContext } from '../../src/researcher/types.js';

export const SLEEPY = join(import.meta.dirname, '..', 'fixtures', 'tasks', 'sleepy');

export function sleepyContext(): { context: ResearchContext; cleanup: () => void; recorded: { type: string; payload: Record<string, unknown> }[] } {
  const task = loadTask(SLEEPY);
  const dir = mkdtempSync(join(tmpdir(), 'successor-llm-'));
  const baseline: ExperimentSummary = {
    id: ExperimentId.parse('exp_baseline01'),
    parentId: null,
    role: 'baseline',
    description: 'baseline',
    change: { knobs: {}, edits: [] },
    assignment: defaultAssignment(task.file.space),
    outcome: { status: 'ok', score: 1.61, metrics: { wallSeconds: 1.61 } },
    accepted: false,
  };
  const recorded: { type: string; payload: Record<string, unknown> }[] = [];
  const context: ResearchContext = {
    task: { name: task.file.name, instructions: task.instructions, metric: task.file.metric, space: task.file.space },
    history: [baseline],
    incumbent: baseline,
    budget: { fractionUsed: 0, experimentsLeft: 3, secondsLeft: null },
    seed: 1,
    signal: new AbortController().signal,
    workspace: {
      editable: task.file.workspace.editable,
      configFile: task.file.run.configFile ?? null,
      materialise: (id) => {
        const destination = join(dir, id);
        materialiseWorkspace(task, { edits: [], assignment: baseline.assignment }, destination);
        return destination;
      },
      readLog: (_id, stream) => (stream === 'stdout' ? 'delay_ms: 1500\n' : ''),
      readDiff: () => null,
    },
    record: (type, payload) => recorded.push({ type, payload }),
  };
  return { context, recorded, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
