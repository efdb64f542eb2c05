/**
 * A user's own Python task, end to end through the CLI as a user runs it: `successor task new` around a project
 * whose train.py imports a helper from a folder outside the task (mounted read-only, found through PYTHONPATH,
 * passed by name), `task check` runs its baseline in the bubblewrap sandbox, and a short research run accepts a
 * change the scaffold's Python scorer measures. Needs python3 and bubblewrap, no PyTorch.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openJournal } from '../../src/journal/journal.js';
import { RunId } from '../../src/task/ids.js';
import { runCli, temporaryDir } from '../lab/fixtures.js';

const bwrapAvailable = existsSync('/usr/bin/bwrap');
const pythonAvailable = spawnSync('/usr/bin/python3', ['--version']).status === 0;
if (process.env.CI === 'true' && !bwrapAvailable) throw new Error('bubblewrap is required under CI=true (apt-get install -y bubblewrap)');
if (process.env.CI === 'true' && !pythonAvailable) throw new Error('python3 is required under CI=true (apt-get install -y python3)');

const scratch = temporaryDir('successor-own-task-');
afterAll(() => scratch.remove());

const library = join(scratch.path, 'lib');
const project = join(scratch.path, 'project');
const taskDir = join(scratch.path, 'my-knn');
const home = join(scratch.path, 'home');

/** The user's library, outside the task: what a virtualenv's site-packages would be. */
const KNN_PY = `import math
from collections import Counter

def predict(examples, query, neighbours):
    nearest = sorted(examples, key=lambda example: math.dist(example[0], query))[:neighbours]
    return Counter(answer for _, answer in nearest).most_common(1)[0][0]
`;

/** The user's train.py: the scaffold's data contract, its model from the mounted library, and a check that the mount is read-only. */
const TRAIN_PY = `import csv, json, os
import knn

try:
    open(os.path.join(os.path.dirname(knn.__file__), 'written-by-the-run'), 'w')
    raise SystemExit('the mounted library is writable')
except OSError:
    pass

config = json.load(open('config.json'))
inputs, artifacts = os.environ['SUCCESSOR_INPUTS'], os.environ['SUCCESSOR_ARTIFACTS']
read = lambda name: list(csv.DictReader(open(os.path.join(inputs, name), newline='')))
train, test = read('train.csv'), read('test.csv')
examples = [((float(row['x']), float(row['y'])), row['label']) for row in train]
os.makedirs(artifacts, exist_ok=True)
with open(os.path.join(artifacts, 'predictions.csv'), 'w', newline='') as file:
    writer = csv.writer(file)
    writer.writerow(['id', 'prediction'])
    for row in test:
        writer.writerow([row['id'], knn.predict(examples, (float(row['x']), float(row['y'])), config['neighbours'])])
print('claimed_accuracy: 1.0')
`;

describe.skipIf(!bwrapAvailable || !pythonAvailable)('a Python task of the user\'s own, in the bubblewrap sandbox', () => {
  const environment = { PYTHONPATH: library };

  it('task new writes a task around the user\'s project', () => {
    mkdirSync(library);
    writeFileSync(join(library, 'knn.py'), KNN_PY);
    mkdirSync(project);
    writeFileSync(join(project, 'train.py'), TRAIN_PY);
    writeFileSync(join(project, 'config.json'), `${JSON.stringify({ neighbours: 1 })}\n`);
    mkdirSync(join(project, '__pycache__'));
    writeFileSync(join(project, '__pycache__', 'stale.pyc'), '');

    const result = runCli(['task', 'new', taskDir, '--command', 'python3 train.py', '--metric', 'accuracy', '--maximize', '--scorer', 'python',
      '--from', project, '--mount', library, '--variable', 'PYTHONPATH', '--wall-seconds', '60', '--json'], home);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ task: 'my-knn', exampleRun: false, files: expect.arrayContaining(['harness/score.py', 'harness/prepare.py']) });
    expect(existsSync(join(taskDir, 'workspace', '__pycache__'))).toBe(false);
    const file = JSON.parse(readFileSync(join(taskDir, 'task.json'), 'utf8'));
    expect(file.harness.score).toEqual(['python3', 'score.py']);
    expect(file.environment).toMatchObject({ mounts: [library], variables: ['PYTHONPATH'] });
  });

  it('task check shows the mount and passes the baseline in the sandbox', () => {
    const result = runCli(['task', 'check', taskDir, '--repeats', '2', '--sandbox', 'required', '--json'], home, { environment });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ runs: 2, passed: 2, environment: { mounts: [library], variables: ['PYTHONPATH'] } });
    // One nearest neighbour on labels of which a tenth are flipped: well above chance, well below what more neighbours reach.
    expect(report.mean).toBeGreaterThan(0.6);
    expect(report.mean).toBeLessThan(0.85);
  });

  it('a short research run accepts a change that the Python scorer measures', { timeout: 240_000 }, () => {
    const replay = join(scratch.path, 'replay.json');
    const edit = { kind: 'write', path: 'config.json', content: `${JSON.stringify({ neighbours: 25 })}\n` };
    writeFileSync(replay, JSON.stringify([{ change: { knobs: {}, edits: [edit] }, description: 'vote among 25 neighbours' }]));
    const result = runCli(['research', '--task', taskDir, '--researcher', `replay:${replay}`, '--max-experiments', '1', '--repeats', '2',
      '--sandbox', 'required', '--contention-limit', 'off', '--json'], home, { timeoutMs: 200_000, environment });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/sandbox bubblewrap/);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ accepted: 1, bestDescription: 'vote among 25 neighbours' });
    expect(summary.bestScore).toBeGreaterThan(summary.baselineScore);

    const journal = openJournal(join(home, 'successor.db'), { readonly: true });
    try {
      const experiments = journal.listExperiments(RunId.parse(summary.runId));
      expect(experiments.every((experiment) => experiment.outcome?.status === 'ok')).toBe(true);
      // The score is the scorer's accuracy on answers the run never saw, not the 1.0 the run printed.
      const best = experiments.find((experiment) => experiment.id === summary.bestExperimentId);
      expect(best?.outcome?.metrics).toMatchObject({ accuracy: summary.bestScore, testRows: 100 });
    } finally {
      journal.close();
    }
  });
});

describe.skipIf(!bwrapAvailable || !pythonAvailable)('task new with a TypeScript scorer and the user\'s own data, which only the harness sees', () => {
  it('splits the user\'s CSV in the harness, and the run never sees the raw file', { timeout: 120_000 }, () => {
    const raw = join(scratch.path, 'raw');
    mkdirSync(raw);
    const rows = Array.from({ length: 200 }, (_, index) => `${index % 7},${index % 3},${index % 7 > 3 ? 'big' : 'small'}`);
    writeFileSync(join(raw, 'points.csv'), ['x,y,size', ...rows].join('\n') + '\n');
    const dir = join(scratch.path, 'sizes');
    const created = runCli(['task', 'new', dir, '--command', 'python3 train.py', '--metric', 'error rate', '--minimize', '--scorer', 'typescript',
      '--data', join(raw, 'points.csv'), '--label', 'size', '--json'], home);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ exampleRun: true, files: expect.arrayContaining(['package.json', 'harness/score.ts']) });
    // The example run, told to peek at the raw file, must not find it: it holds the held-out answers.
    const train = join(dir, 'workspace', 'train.py');
    writeFileSync(train, `import os\nassert not os.path.exists(${JSON.stringify(raw)}), 'the run sees the raw data'\n${readFileSync(train, 'utf8')}`);

    const check = runCli(['task', 'check', dir, '--repeats', '1', '--sandbox', 'required', '--json'], home);
    expect(check.code, check.stderr).toBe(0);
    const report = JSON.parse(check.stdout);
    expect(report).toMatchObject({ passed: 1, environment: { mounts: [], harnessMounts: [raw] } });
    // Five neighbours on a rule of x alone, labelled without noise: few errors.
    expect(report.mean).toBeLessThan(0.2);
  });
});
