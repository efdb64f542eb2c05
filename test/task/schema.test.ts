/** Task files: every malformed task is refused with one line that names the file and the field. */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskError } from '../../src/task/errors.js';
import { listBuiltinTasks, loadTask } from '../../src/task/loader.js';
import { copyTask, temporaryDir } from '../lab/fixtures.js';

const scratch = temporaryDir('successor-schema-');
afterEach(() => rmSync(join(scratch.path, 'sleepy'), { recursive: true, force: true }));

function taskWith(mutate: (task: Record<string, any>) => void): string {
  const dir = copyTask('sleepy', scratch.path);
  const path = join(dir, 'task.json');
  const task = JSON.parse(readFileSync(path, 'utf8'));
  mutate(task);
  writeFileSync(path, JSON.stringify(task));
  return dir;
}

const loadError = (dir: string): string => {
  try {
    loadTask(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(TaskError);
    return (error as Error).message;
  }
  throw new Error('the task loaded');
};

describe('task schema', () => {
  it('loads a valid task', () => {
    const task = loadTask(copyTask('sleepy', scratch.path));
    expect(task.file.name).toBe('sleepy');
    expect(task.file.space.delayMs?.default).toBe(1500);
  });

  it('names a missing field', () => {
    expect(loadError(taskWith((task) => delete task.metric))).toMatch(/task\.json: metric: /);
    expect(loadError(taskWith((task) => delete task.run.limits))).toMatch(/run\.limits/);
  });

  it('refuses globs that escape the workspace or use unsupported syntax', () => {
    expect(loadError(taskWith((task) => (task.workspace.editable = ['../*.js'])))).toMatch(/workspace\.editable\.0: a glob must stay inside/);
    expect(loadError(taskWith((task) => (task.workspace.editable = ['/etc/*'])))).toMatch(/workspace\.editable\.0/);
    expect(loadError(taskWith((task) => (task.workspace.editable = ['{a,b}.js'])))).toMatch(/only \* and \*\*/);
  });

  it('refuses an unknown metric direction or source', () => {
    expect(loadError(taskWith((task) => (task.metric.direction = 'sideways')))).toMatch(/metric\.direction/);
    expect(loadError(taskWith((task) => (task.metric.source = 'vibes')))).toMatch(/metric\.source/);
  });

  it('refuses knobs whose default lies outside their range, and unknown keys', () => {
    expect(loadError(taskWith((task) => (task.space.delayMs.default = 99999)))).toMatch(/space\.delayMs: default must lie in/);
    expect(loadError(taskWith((task) => (task.colour = 'blue')))).toMatch(/Unrecognized key.*colour/);
  });

  it('refuses files that are not there and JSON that does not parse', () => {
    expect(loadError(taskWith((task) => (task.harness.score = 'missing.ts')))).toMatch(/harness\.score 'harness\/missing\.ts' does not exist/);
    const dir = copyTask('sleepy', scratch.path);
    writeFileSync(join(dir, 'task.json'), '{ "name": ');
    expect(loadError(dir)).toMatch(/not valid JSON/);
    mkdirSync(join(scratch.path, 'empty'), { recursive: true });
    expect(loadError(join(scratch.path, 'empty'))).toMatch(/no task\.json/);
    expect(() => loadTask(join(scratch.path, 'nowhere'))).toThrow(/no task '.*nowhere': not a built-in task/);
  });

  it('every built-in task is valid', () => {
    const names = listBuiltinTasks().map((task) => task.file.name);
    expect(names).toContain('lm-speedrun');
    expect(names).toContain('lm-speedrun-quick');
  });
});
