/**
 * The lab refuses a proposal that repeats one already tried, for every researcher, before it costs a run: the same
 * workspace by normalised fingerprint (an edit re-worded only in whitespace, a knob set back to the value its parent
 * has). Through the real loop, executor, harness and sandbox on the sleepy task, with the replay researcher.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/executor/local.js';
import { openJournal } from '../../src/journal/journal.js';
import { parseRunOptions } from '../../src/lab/options.js';
import { research } from '../../src/lab/start.js';
import { ReplayResearcher } from '../../src/researcher/replay.js';
import type { RunId } from '../../src/task/ids.js';
import { FIXTURE_TASKS, temporaryDir } from './fixtures.js';

const home = temporaryDir('successor-duplicates-');
afterAll(() => home.remove());

const printLine = 'console.log(`delay_ms: ${config.delayMs}`);';

it('refuses repeats before they run: whitespace-only rewording, and a knob set back to its parent\'s value', async () => {
  const researcher = new ReplayResearcher([
    // Slower than the baseline: it runs, and is not accepted, so the incumbent stays the baseline.
    { change: { knobs: { delayMs: 1900 }, edits: [{ kind: 'replace', path: 'work.mjs', search: printLine, replace: `${printLine}\nconsole.log('tried');` }] }, description: 'slower, with a line' },
    // The same workspace: the edit differs only in spaces and a blank line.
    { change: { knobs: { delayMs: 1900 }, edits: [{ kind: 'replace', path: 'work.mjs', search: printLine, replace: `${printLine}\n\n  console.log(  'tried');  ` }] }, description: 'the same, re-worded' },
    // The baseline's own value: the baseline's workspace.
    { change: { knobs: { delayMs: 1500 }, edits: [] }, description: 'delay back to the default' },
    // Something new still runs.
    { change: { knobs: { delayMs: 1700 }, edits: [] }, description: 'slower still, but new' },
  ]);
  const journal = openJournal(join(home.path, 'successor.db'));
  const executor = await LocalExecutor.create('auto', home.path);
  try {
    // Contention off, as for the CLI under vitest (vitest.config.ts): test files share the machine.
    const options = parseRunOptions({ task: join(FIXTURE_TASKS, 'sleepy'), researcher: 'replay', maxExperiments: 4, contentionLimit: null });
    const result = await research({ journal, executor, researcher, stateDir: home.path, signal: new AbortController().signal, observe: () => {} }, { options, generations: 1 });
    const runId = result.runs[0].runId as RunId;
    const candidates = journal.listExperiments(runId).filter((experiment) => experiment.role === 'candidate');
    expect(candidates.map((experiment) => experiment.description)).toEqual(['slower, with a line', 'the same, re-worded', 'delay back to the default', 'slower still, but new']);
    const [first, reworded, back, fresh] = candidates;
    const baseline = journal.listExperiments(runId).find((experiment) => experiment.role === 'baseline');
    expect(first.outcome?.status).toBe('ok');
    expect(first.logPath && existsSync(first.logPath)).toBeTruthy();
    expect(first.metadata.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    // Refused before running: failed with the reason, the experiment it repeats named, never handed to the harness.
    for (const [refused, original] of [[reworded, first], [back, baseline]] as const) {
      expect(refused.outcome?.status).toBe('failed');
      expect(refused.outcome && 'reason' in refused.outcome ? refused.outcome.reason : '').toMatch(new RegExp(`^refused before running: the same workspace as #${original?.seq} ${original?.id}`));
      expect(refused.metadata.duplicateOf).toBe(original?.id);
      expect(refused.logPath).toBeNull();
      expect(existsSync(join(home.path, 'experiments', refused.id))).toBe(false);
    }
    expect(fresh.outcome?.status).toBe('ok');
    expect(fresh.metadata.duplicateOf).toBeUndefined();
    expect(journal.verifyAudit({ runId }).ok).toBe(true);
  } finally {
    await executor.close();
    journal.close();
  }
}, 180_000);
