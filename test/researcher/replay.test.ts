/**
 * The replay researcher and the registry: the shared contract (through a real replay file), order and
 * position semantics, exhaustion, and typed errors for bad files and unknown names.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBuiltinResearcher, KNOWN_RESEARCHERS } from '../../src/researcher/builtin.js';
import { ReplayResearcher } from '../../src/researcher/replay.js';
import type { RecordedProposal } from '../../src/researcher/replay.js';
import { ReplayFileError, UnknownResearcherError } from '../../src/researcher/types.js';
import { createRandom } from '../../src/stats/random.js';
import { researcherContract } from './contract.js';
import { makeContext, randomHistory, speedrunSpace, summary } from './fixtures.js';

const directory = mkdtempSync(join(tmpdir(), 'successor-replay-'));

/** A recording of `count` valid one- or two-knob changes, written to a file. */
function writeRecording(count: number): string {
  const random = createRandom(77);
  const recording: RecordedProposal[] = Array.from({ length: count }, (_, index) => {
    const learningRate = Number((1e-4 * 1000 ** random.uniform()).toPrecision(3));
    const knobs: Record<string, number> = index % 2 ? { learningRate } : { learningRate, width: [64, 128, 256, 512][random.integer(4)] };
    return { change: { knobs, edits: [] }, ...(index % 3 ? { description: `recorded step ${index}` } : {}) };
  });
  const path = join(directory, `recording-${count}.json`);
  writeFileSync(path, JSON.stringify(recording));
  return path;
}

const contractFile = writeRecording(300);
researcherContract('replay', () => createBuiltinResearcher(`replay:${contractFile}`, { seed: 0 }));

describe('replay researcher', () => {
  it('replays in order, one per candidate, against the incumbent; null when exhausted', async () => {
    const researcher = new ReplayResearcher([
      { change: { knobs: { learningRate: 3e-3 }, edits: [] }, description: 'lr up' },
      { change: { knobs: { width: 256 }, edits: [{ kind: 'replace', path: 'train.ts', search: 'a', replace: 'b' }] } },
    ]);
    const history = randomHistory(0, 1, 0);
    const first = await researcher.propose(makeContext(history));
    expect(first).toEqual({ parentId: history[0].id, change: { knobs: { learningRate: 3e-3 }, edits: [] }, description: 'lr up' });
    // Repeats and verifications are the loop's, not the researcher's: they do not advance the recording.
    history.push(summary(1, { assignment: { ...history[0].assignment, learningRate: 3e-3 }, role: 'candidate', accepted: true }));
    history.push(summary(2, { assignment: history[1].assignment, role: 'repeat' }));
    const second = await researcher.propose(makeContext(history));
    expect(second?.parentId).toBe(history[1].id);
    expect(second?.description).toBe('width 128→256; edit train.ts');
    history.push(summary(3, { assignment: { ...history[1].assignment, width: 256 } }));
    expect(await researcher.propose(makeContext(history))).toBeNull();
  });

  it('passes recorded changes through unvalidated: judging them is the lab’s job', async () => {
    const hostile = new ReplayResearcher([{ change: { knobs: { notAKnob: 'x', learningRate: 99 }, edits: [] } }]);
    const proposal = await hostile.propose(makeContext(randomHistory(0, 1, 0)));
    expect(proposal?.change.knobs).toEqual({ notAKnob: 'x', learningRate: 99 });
    expect(proposal?.description).toBe('learningRate 1e-3→99, notAKnob unset→x');
  });

  it('reports unreadable or malformed files as ReplayFileError', () => {
    const write = (name: string, text: string): string => { const path = join(directory, name); writeFileSync(path, text); return path; };
    expect(() => createBuiltinResearcher(`replay:${join(directory, 'missing.json')}`, { seed: 0 })).toThrow(ReplayFileError);
    expect(() => createBuiltinResearcher(`replay:${write('bad.json', '[{')}`, { seed: 0 })).toThrow(/not JSON/);
    expect(() => createBuiltinResearcher(`replay:${write('empty-change.json', '[{"change": {}}]')}`, { seed: 0 })).toThrow(/must set a knob or edit a file/);
    expect(() => createBuiltinResearcher(`replay:${write('extra.json', '[{"change": {"knobs": {"a": 1}}, "why": "x"}]')}`, { seed: 0 })).toThrow(ReplayFileError);
  });

  it('resolves relative replay paths against options.cwd', async () => {
    writeRecording(3);
    const researcher = createBuiltinResearcher('replay:recording-3.json', { seed: 0, cwd: directory });
    expect(await researcher.propose(makeContext(randomHistory(0, 1, 0), { space: speedrunSpace }))).not.toBeNull();
  });
});

describe('createBuiltinResearcher', () => {
  it('knows search, its flavours and replay', () => {
    expect(createBuiltinResearcher('search', { seed: 1 }).name).toBe('search');
    expect(createBuiltinResearcher('search:tpe', { seed: 1 }).name).toBe('search');
    expect(createBuiltinResearcher('search:evolution', { seed: 1 }).name).toBe('search:evolution');
  });

  it('rejects unknown names with a typed error that lists the known ones', () => {
    for (const name of ['llm', 'replay:', 'toString', 'SEARCH']) {
      let caught: unknown;
      try { createBuiltinResearcher(name, { seed: 1 }); } catch (error) { caught = error; }
      expect(caught).toBeInstanceOf(UnknownResearcherError);
      expect((caught as UnknownResearcherError).known).toEqual(KNOWN_RESEARCHERS);
      expect((caught as Error).message).toContain('search, search:tpe, search:evolution, replay:FILE');
    }
  });
});
