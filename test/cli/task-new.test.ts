/**
 * The parts of `successor task new` that need no sandbox: the --command line split as a shell would, the task
 * name taken from the folder, and the scaffold's refusals (missing --from, a command whose script is not there).
 * The whole flow, in the sandbox, is test/task/own-task.test.ts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { splitCommand } from '../../src/cli/task-new.js';
import { loadTask } from '../../src/task/loader.js';
import { taskNameFrom, writeTaskSkeleton } from '../../src/task/scaffold.js';
import { temporaryDir } from '../lab/fixtures.js';

const scratch = temporaryDir('successor-task-new-');
afterAll(() => scratch.remove());

describe('splitCommand', () => {
  it('splits words and keeps quoted ones whole, without expansion', () => {
    expect(splitCommand('python3 train.py')).toEqual(['python3', 'train.py']);
    expect(splitCommand(`python3  "my train.py" --name 'a b' x\\ y`)).toEqual(['python3', 'my train.py', '--name', 'a b', 'x y']);
    expect(splitCommand('echo "$HOME" \'\'')).toEqual(['echo', '$HOME', '']);
  });

  it('names what is wrong', () => {
    expect(() => splitCommand('python3 "train.py')).toThrow(/--command: an unclosed " quote/);
    expect(() => splitCommand('   ')).toThrow(/--command is empty/);
  });
});

describe('the scaffold', () => {
  it('takes the task name from the folder', () => {
    expect(taskNameFrom('/home/me/My Task_2')).toBe('my-task-2');
    expect(taskNameFrom('/tmp/__')).toBe('task-new');
  });

  it('writes an example run when the command\'s Python script is missing, and a task that loads', () => {
    const dir = join(scratch.path, 'example');
    const skeleton = writeTaskSkeleton({ dir, name: 'example', command: ['python3', 'train.py'], metric: { name: 'accuracy', direction: 'maximize' }, language: 'python' });
    expect(skeleton.exampleRun).toBe(true);
    const task = loadTask(dir);
    expect(task.file.space).toHaveProperty('neighbours');
    expect(task.file.run.configFile).toBe('config.json');
    expect(readFileSync(join(dir, 'instructions.md'), 'utf8')).toMatch(/Raise \*\*accuracy\*\*/);
  });

  it('refuses a --from that is missing, and a script that is not among the user\'s files', () => {
    expect(() => writeTaskSkeleton({ dir: join(scratch.path, 'a'), name: 'a', command: ['python3', 'train.py'], metric: { name: 'm', direction: 'minimize' }, language: 'python', from: '/no/such/project' }))
      .toThrow(/--from: \/no\/such\/project does not exist/);
    const project = join(scratch.path, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'main.R'), '');
    expect(() => writeTaskSkeleton({ dir: join(scratch.path, 'b'), name: 'b', command: ['Rscript', 'train.R'], metric: { name: 'm', direction: 'minimize' }, language: 'python', from: project }))
      .toThrow(/--command: 'train\.R' is not among the workspace's files/);
    expect(existsSync(join(scratch.path, 'b', 'task.json'))).toBe(false);
  });
});
