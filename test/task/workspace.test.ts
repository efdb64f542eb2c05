/**
 * Workspaces under malformed and oversized changes: every way a change can make materialising go wrong is a
 * ChangeError with a reason (never a TypeError or a bare EEXIST), and a lineage is bounded as a whole, not only
 * change by change. Built on the speedrun-tiny fixture (lm-speedrun's workspace; `**\/*.ts` and `**\/*.json` editable).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FileEdit } from '../../src/task/change.js';
import { ChangeError } from '../../src/task/errors.js';
import { loadTask } from '../../src/task/loader.js';
import {
  MAX_CHANGE_BYTES, MAX_LINEAGE_EDIT_BYTES, MAX_WORKSPACE_GROWTH_BYTES, checkChange, checkLineageSize, checkWorkspaceGrowth, materialiseWorkspace,
  workspaceGrowthBytes, writeConfigValue,
} from '../../src/task/workspace.js';
import { FIXTURE_TASKS, temporaryDir } from '../lab/fixtures.js';

const task = loadTask(join(FIXTURE_TASKS, 'speedrun-tiny'));
const scratch = temporaryDir('successor-workspace-');
afterAll(() => scratch.remove());
let counter = 0;
const fresh = () => join(scratch.path, `w${counter++}`);

/** What materialising `edits` (with a knob, so the config is written) throws: its class and message. */
function failureOf(edits: FileEdit[], assignment: Record<string, number> = { learningRate: 0.01 }): string {
  try {
    materialiseWorkspace(task, { edits, assignment }, fresh());
    return 'applied';
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

describe('a malformed change is a ChangeError', () => {
  it('a config that is null, an array or a string, whether the knobs or the seed are written into it', () => {
    for (const [content, what] of [['null', 'null'], ['[1, 2]', 'an array'], ['"text"', 'string']] as const) {
      expect(failureOf([{ kind: 'write', path: 'config.json', content }])).toBe(`ChangeError: the config file 'config.json' must hold a JSON object, not ${what}`);
      const dir = fresh();
      materialiseWorkspace(task, { edits: [{ kind: 'write', path: 'config.json', content }], assignment: {} }, dir);
      expect(() => writeConfigValue(dir, 'config.json', 'seed', 7)).toThrow(ChangeError);
    }
    expect(failureOf([{ kind: 'write', path: 'config.json', content: '{ not json' }])).toMatch(/^ChangeError: the config file 'config.json' is not valid JSON/);
    expect(failureOf([{ kind: 'delete', path: 'config.json' }])).toBe("ChangeError: reading the config file 'config.json' failed: it does not exist");
  });

  it('a path under a file, a folder where a file should be, and a delete of a folder', () => {
    expect(failureOf([{ kind: 'write', path: 'run.ts/evil.ts', content: 'x' }])).toBe("ChangeError: writing 'run.ts/evil.ts' failed: a folder on its path is a file");
    expect(failureOf([{ kind: 'write', path: 'sub.json/a.ts', content: 'x' }, { kind: 'write', path: 'sub.json', content: 'x' }], {})).toBe("ChangeError: writing 'sub.json' failed: it is a folder");
    expect(failureOf([{ kind: 'write', path: 'sub.json/a.ts', content: 'x' }, { kind: 'delete', path: 'sub.json' }], {})).toBe("ChangeError: deleting 'sub.json' failed: it is a folder");
    expect(failureOf([{ kind: 'replace', path: 'run.ts/b.ts', search: 'x', replace: 'y' }], {})).toMatch(/^ChangeError: .*'run.ts\/b.ts'/);
  });

  it('paths that name nothing, are too long or too deep', () => {
    expect(failureOf([{ kind: 'write', path: '.', content: 'x' }])).toBe("ChangeError: '.' names no file");
    expect(failureOf([{ kind: 'write', path: `${'a'.repeat(600)}.ts`, content: 'x' }])).toMatch(/^ChangeError: a path of 603 bytes; at most 512/);
    expect(failureOf([{ kind: 'write', path: `${'d/'.repeat(20)}x.ts`, content: 'x' }])).toMatch(/^ChangeError: .* nested more than 16 folders deep/);
  });

  it('a well-formed change still applies', () => {
    const dir = fresh();
    materialiseWorkspace(task, { edits: [{ kind: 'write', path: 'extra/more.ts', content: 'export {};\n' }], assignment: { learningRate: 0.02 } }, dir);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).learningRate).toBe(0.02);
    expect(readFileSync(join(dir, 'extra/more.ts'), 'utf8')).toBe('export {};\n');
  });
});

describe('a lineage is bounded as a whole', () => {
  /** A change writing `bytes` of data to a new file: under the one-change cap. */
  const dataWrite = (index: number, bytes = 200 * 1024): FileEdit => ({ kind: 'write', path: `data-${index}.json`, content: `"${String(index).repeat(bytes)}`.slice(0, bytes) });

  it('three chained changes of 200 KiB each pass the one-change cap but not the lineage\'s', () => {
    const chain = [dataWrite(1), dataWrite(2), dataWrite(3)];
    for (const edit of chain) expect(() => checkChange(task, {}, { knobs: {}, edits: [edit] })).not.toThrow();
    const two = fresh();
    materialiseWorkspace(task, { edits: chain.slice(0, 2), assignment: {} }, two);
    expect(workspaceGrowthBytes(task, two)).toBe(2 * 200 * 1024);
    expect(() => checkWorkspaceGrowth(task, two)).not.toThrow();
    const three = fresh();
    materialiseWorkspace(task, { edits: chain, assignment: {} }, three);
    expect(() => checkWorkspaceGrowth(task, three)).toThrow(new RegExp(`adds ${3 * 200 * 1024} bytes .* at most ${MAX_WORKSPACE_GROWTH_BYTES}`));
  });

  it('counts what the final workspace adds, not how often a file was rewritten; a changed file counts by its changed middle', () => {
    const original = readFileSync(join(task.workspaceDir, 'run.ts'), 'utf8');
    const rewrites: FileEdit[] = Array.from({ length: 30 }, (_, index) => ({ kind: 'write', path: 'notes.ts', content: `// ${index}\n${'x'.repeat(MAX_CHANGE_BYTES / 2)}` }));
    const dir = fresh();
    materialiseWorkspace(task, { edits: [...rewrites, { kind: 'write', path: 'run.ts', content: `${original}// one more line\n` }], assignment: {} }, dir);
    expect(workspaceGrowthBytes(task, dir)).toBe(Buffer.byteLength(`// 29\n${'x'.repeat(MAX_CHANGE_BYTES / 2)}`) + Buffer.byteLength('// one more line\n'));
  });

  it('counts files a change writes under ignored names too', () => {
    const dir = fresh();
    materialiseWorkspace(task, { edits: [{ kind: 'write', path: 'node_modules/data.json', content: 'x'.repeat(1000) }, { kind: 'write', path: 'PINNED/x.ts', content: 'y'.repeat(500) }], assignment: {} }, dir);
    expect(workspaceGrowthBytes(task, dir)).toBe(1500);
  });

  it('caps the text an edit list carries, whatever the workspace ends up holding', () => {
    const edits: FileEdit[] = Array.from({ length: 20 }, (_, index) => ({ kind: 'write', path: 'notes.ts', content: `${index}${'y'.repeat(MAX_CHANGE_BYTES - 10)}` }));
    expect(() => checkLineageSize({ edits, assignment: {} })).toThrow(new RegExp(`at most ${MAX_LINEAGE_EDIT_BYTES} are allowed across a lineage`));
    expect(failureOf(edits)).toMatch(/^ChangeError: the lineage's edits hold/);
  });
});
