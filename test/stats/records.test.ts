/** Parsing run records: METR's JSONL as it is, CSV with quoting and score thresholds, and errors that name the line. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRunRecords, RecordsError } from '../../src/stats/records.js';

const directory = mkdtempSync(join(tmpdir(), 'successor-records-'));
function file(name: string, content: string): string {
  const path = join(directory, name);
  writeFileSync(path, content);
  return path;
}

// Two rows shaped like METR's all_runs.jsonl (fields as published, values made up).
const metrRow = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    run_id: 'r1', task_id: 'crossword/5x5', task_family: 'crossword', alias: 'Model A', model: 'a', score: 0.4, score_binarized: 1,
    human_minutes: 12.5, human_score: 1, human_source: 'baseline', time_limit: 1800, fatal_error_from: null,
    dollar_equivalent: null, total_tokens: null, equal_task_weight: 0.01, invsqrt_task_weight: 0.02, ...overrides,
  });

describe('readRunRecords', () => {
  it("reads METR's JSONL fields as they are, skipping blank lines", () => {
    const records = readRunRecords(file('metr.jsonl', `${metrRow()}\n\n${metrRow({ score_binarized: 0, alias: 'Model B' })}\n`));
    expect(records).toEqual([
      { line: 1, taskId: 'crossword/5x5', taskFamily: 'crossword', agent: 'Model A', humanMinutes: 12.5, success: 1, equalTaskWeight: 0.01, invsqrtTaskWeight: 0.02 },
      { line: 3, taskId: 'crossword/5x5', taskFamily: 'crossword', agent: 'Model B', humanMinutes: 12.5, success: 0, equalTaskWeight: 0.01, invsqrtTaskWeight: 0.02 },
    ]);
  });

  it('reads CSV with quoted commas, booleans, optional weights and score thresholds', () => {
    const path = file('runs.csv', [
      'task,family,agent,humanMinutes,success,score,threshold,weight',
      '"fix, then test",fam,A,3,true,,,',
      'other,fam,A,7,,0.8,0.5,2',
      'third,fam,A,9,,0.2,,',
    ].join('\n'));
    const records = readRunRecords(path, { threshold: 0.1 });
    expect(records.map((record) => [record.line, record.taskId, record.success, record.weight])).toEqual([
      [2, 'fix, then test', 1, undefined],
      [3, 'other', 1, 2],
      [4, 'third', 1, undefined], // 0.2 >= the caller's 0.1
    ]);
  });

  it.each([
    ['missing.jsonl', `${metrRow()}\n${metrRow({ task_family: undefined })}`, /missing.jsonl:2: missing task_family/],
    ['text.jsonl', metrRow({ human_minutes: 'ten' }), /text.jsonl:1: human_minutes must be a number, got "ten"/],
    ['zero.jsonl', metrRow({ human_minutes: 0 }), /zero.jsonl:1: human_minutes must be positive/],
    ['broken.jsonl', `${metrRow()}\n{"task_id": `, /broken.jsonl:2: not valid JSON/],
    ['range.jsonl', metrRow({ score_binarized: 3 }), /range.jsonl:1: score_binarized must be in \[0, 1\]/],
    ['nothreshold.jsonl', metrRow({ score_binarized: undefined }), /nothreshold.jsonl:1: score 0.4 has no threshold/],
    ['nooutcome.jsonl', metrRow({ score_binarized: undefined, score: undefined }), /nooutcome.jsonl:1: missing success/],
    ['negative.jsonl', metrRow({ weight: -1 }), /negative.jsonl:1: weight must be non-negative/],
    ['bad.csv', 'task_id,task_family,alias,human_minutes,score_binarized\nt,f,a,n/a,1', /bad.csv:2: human_minutes must be a number, got "n\/a"/],
    ['empty.jsonl', '\n\n', /empty.jsonl: no run records/],
  ])('rejects %s with a message naming the line', (name, content, message) => {
    expect(() => readRunRecords(file(name, content))).toThrow(RecordsError);
    expect(() => readRunRecords(file(name, content))).toThrow(message);
  });

  it('names an unreadable file', () => {
    expect(() => readRunRecords(join(directory, 'absent.jsonl'))).toThrow(/cannot read .*absent.jsonl: ENOENT/);
  });
});
