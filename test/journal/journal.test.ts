import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/journal/canonical-json.js';
import { JournalError, openJournal, type Journal } from '../../src/journal/journal.js';
import { journalPath, stateDir } from '../../src/journal/paths.js';
import { migrations } from '../../src/journal/migrations.js';
import { newRunId } from '../../src/task/ids.js';
import { experimentInput, removeTemporaryJournals, runInput, sampleJournal, temporaryJournalPath } from './fixtures/sample-journal.js';

const opened: Journal[] = [];
const track = (journal: Journal): Journal => (opened.push(journal), journal);
afterEach(() => {
  for (const journal of opened.splice(0)) journal.close();
});
afterAll(removeTemporaryJournals);

const timestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('openJournal', () => {
  it('creates the directory and file, in WAL mode, with foreign keys and full sync', () => {
    const path = temporaryJournalPath();
    track(openJournal(path));
    expect(existsSync(path)).toBe(true);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(migrations.length);
    raw.close();
  });

  it('reopens an existing journal without losing rows or re-running migrations', () => {
    const { journal, path, runId } = sampleJournal();
    journal.close();
    const again = track(openJournal(path));
    expect(again.getRun(runId)?.task).toBe('lm-speedrun');
    expect(again.verifyAudit().ok).toBe(true);
  });

  it('a read-only journal reads while the writer stays open, and refuses writes', () => {
    const sample = sampleJournal();
    track(sample.journal);
    const reader = track(openJournal(sample.path, { readonly: true }));
    expect(reader.listExperiments(sample.runId)).toHaveLength(2);
    sample.journal.appendEvent(sample.runId, 'late', {});
    expect(reader.listEvents(sample.runId).map((event) => event.type)).toContain('late');
    expect(() => reader.appendEvent(sample.runId, 'x', {})).toThrow(JournalError);
    expect(() => openJournal(join(dirname(sample.path), 'absent.db'), { readonly: true })).toThrow();
  });
});

describe('runs', () => {
  it('round-trips a run and its updates', () => {
    const journal = track(openJournal(temporaryJournalPath()));
    const parent = journal.createRun(runInput());
    const run = journal.createRun(runInput({ generation: 1, parentRunId: parent.id, options: { seed: 7, nested: { a: [1, 'b'] } } }));
    expect(run).toMatchObject({ generation: 1, parentRunId: parent.id, options: { seed: 7, nested: { a: [1, 'b'] } }, status: 'running' });
    expect(run.createdAt).toMatch(timestamp);
    const stopped = journal.updateRun(run.id, { status: 'stopped', stopReason: 'budget', summary: { best: 1.5 } });
    expect(stopped).toMatchObject({ status: 'stopped', stopReason: 'budget', summary: { best: 1.5 }, createdAt: run.createdAt });
    expect(journal.getRun(run.id)).toEqual(stopped);
    expect(journal.listRuns().map((row) => row.id)).toEqual([run.id, parent.id]);
    expect(journal.getRun(newRunId())).toBeUndefined();
  });

  it('keeps a caller-chosen id and rejects invalid input with a typed error', () => {
    const journal = track(openJournal(temporaryJournalPath()));
    const id = newRunId();
    expect(journal.createRun({ ...runInput(), id }).id).toBe(id);
    expect(() => journal.createRun(runInput({ generation: -1 }))).toThrow(JournalError);
    expect(() => journal.updateRun(newRunId(), { status: 'paused' })).toThrow(/no run/);
    expect(journal.verifyAudit()).toMatchObject({ ok: true, entries: 1 });
  });
});

describe('experiments', () => {
  it('round-trips every field, assigns seq 1.. per run, and stamps start and finish', () => {
    const journal = track(openJournal(temporaryJournalPath()));
    const first = journal.createRun(runInput());
    const second = journal.createRun(runInput());
    const a = journal.createExperiment(experimentInput(first.id));
    const b = journal.createExperiment(experimentInput(second.id));
    const c = journal.createExperiment(experimentInput(first.id, { parentId: a.id, role: 'repeat', metadata: { attempt: 2 } }));
    expect([a.seq, b.seq, c.seq]).toEqual([1, 1, 2]);
    expect(c).toMatchObject({ parentId: a.id, role: 'repeat', metadata: { attempt: 2 }, change: { knobs: { learningRate: 0.003 }, edits: [] } });
    expect(c.proposedAt).toMatch(timestamp);
    expect(c.startedAt).toBeNull();

    const running = journal.updateExperiment(a.id, { state: 'running', logPath: '/logs/a.log' });
    expect(running.startedAt).toMatch(timestamp);
    const outcome = { status: 'suspect' as const, score: 1.25, reason: 'faster than the FLOP bound', metrics: { loss: 2.5, note: 'x' } };
    const finished = journal.updateExperiment(a.id, { state: 'finished', outcome, accepted: true, artifactsPath: '/artifacts/a' });
    expect(finished).toMatchObject({ outcome, accepted: true, logPath: '/logs/a.log', artifactsPath: '/artifacts/a', startedAt: running.startedAt });
    expect(finished.finishedAt).toMatch(timestamp);
    expect(journal.getExperiment(a.id)).toEqual(finished);
    expect(journal.listExperiments(first.id).map((row) => row.seq)).toEqual([1, 2]);
  });

  it('a created-running experiment is stamped; an explicit stamp wins', () => {
    const journal = track(openJournal(temporaryJournalPath()));
    const run = journal.createRun(runInput());
    const experiment = journal.createExperiment(experimentInput(run.id, { state: 'running' }));
    expect(experiment.startedAt).toMatch(timestamp);
    const finished = journal.updateExperiment(experiment.id, { state: 'finished', finishedAt: '2030-01-01T00:00:00.000Z' });
    expect(finished.finishedAt).toBe('2030-01-01T00:00:00.000Z');
  });

  it('transaction: nested calls join the outer one, and a throw rolls all of it back (audit entries included)', () => {
    const journal = track(openJournal(temporaryJournalPath()));
    const run = journal.createRun(runInput());
    expect(() => journal.transaction(() => {
      journal.createExperiment(experimentInput(run.id));
      journal.transaction(() => journal.appendEvent(run.id, 'inner', {}));
      throw new Error('abort');
    })).toThrow('abort');
    expect(journal.listExperiments(run.id)).toEqual([]);
    expect(journal.listEvents(run.id)).toEqual([]);
    expect(journal.verifyAudit()).toMatchObject({ ok: true, entries: 1 });
    const seqs = journal.transaction(() => [journal.createExperiment(experimentInput(run.id)).seq, journal.createExperiment(experimentInput(run.id)).seq]);
    expect(seqs).toEqual([1, 2]);
  });
});

describe('events and cache', () => {
  it('lists a run\'s events after an id, oldest first', () => {
    const { journal, runId, baseline } = sampleJournal();
    track(journal);
    const events = journal.listEvents(runId);
    expect(events.map((event) => event.type)).toEqual(['experiment.finished', 'budget']);
    expect(events[0]).toMatchObject({ experimentId: baseline.id, payload: { score: 120.5 } });
    expect(journal.listEvents(runId, events[0].id).map((event) => event.type)).toEqual(['budget']);
  });

  it('stores any JSON value, overwrites, and rejects what JSON cannot hold', () => {
    const journal = track(openJournal(temporaryJournalPath()));
    expect(journal.getCache('absent')).toBeUndefined();
    journal.setCache('k', [1, { b: 2, a: null }]);
    expect(journal.getCache('k')).toEqual([1, { a: null, b: 2 }]);
    journal.setCache('k', 'second');
    expect(journal.getCache('k')).toBe('second');
    expect(() => journal.setCache('nan', Number.NaN)).toThrow();
    expect(() => journal.setCache('date', new Date())).toThrow();
    expect(journal.getCache('nan')).toBeUndefined();
    expect(journal.verifyAudit()).toMatchObject({ ok: true, entries: 2 });
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth, drops undefined members, and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [true, null, 'x'], c: undefined, B: 2.5 } })).toBe('{"a":{"B":2.5,"d":[true,null,"x"]},"b":1}');
    expect(() => canonicalJson([undefined])).toThrow();
    expect(() => canonicalJson({ big: 1n })).toThrow();
  });
});

describe('paths', () => {
  it('uses SUCCESSOR_HOME, else .successor under the working directory', () => {
    expect(stateDir({}, '/work/x')).toBe('/work/x/.successor');
    expect(stateDir({ SUCCESSOR_HOME: 'state' }, '/work/x')).toBe('/work/x/state');
    expect(journalPath({ SUCCESSOR_HOME: '/var/lab' }, '/work/x')).toBe('/var/lab/successor.db');
  });
});
