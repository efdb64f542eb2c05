/**
 * The red-team suite: every hack in hacks.ts goes through the real lab (CLI, research loop, gate, harness,
 * bubblewrap sandbox) on speedrun-tiny, lm-speedrun's own harness and workspace with a tiny model. No hack may end
 * as an accepted gain, each must end in one of its allowed outcomes, and the host must be unharmed: no process
 * left, nothing written outside the scratch copy, the harness unchanged, the lab's secrets in no log or artifact,
 * the audit log verifying with its signed checkpoint. The cases share one loop run to stay within minutes.
 * Where the design makes a hack inert (e.g. a patched Date.now cannot reach the harness's clock) the honest
 * expectation is `ok` with no gain, never accepted; the README's "Red team" table says which.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/executor/local.js';
import { openJournal, type ExperimentRow } from '../../src/journal/journal.js';
import { latestIncumbent } from '../../src/lab/lineage.js';
import { RunId } from '../../src/task/ids.js';
import { loadTask } from '../../src/task/loader.js';
import { hashFolder, prepareTask } from '../../src/task/prepare.js';
import { defaultAssignment } from '../../src/task/space.js';
import { TrainConfig } from '../../src/gpt/config.js';
import { loadMobyDick } from '../../src/gpt/data.js';
import { prepareData, train } from '../../src/gpt/train.js';
import { CLI, FIXTURE_TASKS, ROOT, temporaryDir } from '../lab/fixtures.js';
import { harnessOnlyCases, hackCases, type HackCase, type HackContext } from './hacks.js';

const bwrapAvailable = existsSync('/usr/bin/bwrap');
if (process.env.CI === 'true' && !bwrapAvailable) throw new Error('bubblewrap is required under CI=true (apt-get install -y bubblewrap)');

const TASK_DIR = join(FIXTURE_TASKS, 'speedrun-tiny');
const SECRETS = { SUCCESSOR_TEST_SECRET: `redteam-secret-${process.pid}-${Date.now()}`, OPENAI_API_KEY: `sk-redteam-${process.pid}-${Date.now()}` };
const scratch = temporaryDir('successor-redteam-');
const home = join(scratch.path, 'home');
const keyDir = join(scratch.path, 'keys');
const markerDir = join(scratch.path, 'markers');

/** Ids and expectations only (the host facts are filled in before the run). */
const placeholder: HackContext = { home, hiddenDir: '', markerDir, keyDir, hostPort: 1, checkpointFiles: {}, mobyDickCheckpointFiles: {}, mobyDickByteRanking: [], checkpointDir: '' };
const CASES = hackCases(placeholder);

/** Files whose bytes no hack may change. */
const guarded = () => ({
  harness: hashFolder(join(ROOT, 'tasks/lm-speedrun/harness')),
  lab: hashFolder(join(ROOT, 'src/gpt')) + hashFolder(join(ROOT, 'src/task')),
  tasks: readFileSync(join(ROOT, 'tasks/lm-speedrun/task.json'), 'utf8') + readFileSync(join(TASK_DIR, 'task.json'), 'utf8'),
});

let context: HackContext;
let server: Server;
let hostConnections = 0;
let guardedBefore: ReturnType<typeof guarded>;
let executor: LocalExecutor;
let research: { code: number | null; stdout: string; stderr: string };
const byCase = new Map<string, ExperimentRow>();

const stdoutOf = (experiment: ExperimentRow | undefined): string =>
  experiment?.logPath && existsSync(join(experiment.logPath, 'stdout.log')) ? readFileSync(join(experiment.logPath, 'stdout.log'), 'utf8') : '';

function lab(args: string[], timeoutMs: number) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT, encoding: 'utf8', timeout: timeoutMs,
    env: { ...process.env, ...SECRETS, SUCCESSOR_HOME: home, SUCCESSOR_KEY_DIR: keyDir, NO_COLOR: '1' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every regular file below `dir`. */
function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => join(dir, name)).filter((path) => statSync(path, { throwIfNoEntry: false })?.isFile());
}

/** Every entry below `dir` (links not followed) that is not a plain, lab-owned file or folder without special bits. */
function powersBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const odd: string[] = [];
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const stats = lstatSync(join(dir, name));
    const kind = stats.isFile() ? 'file' : stats.isDirectory() ? 'folder' : 'special';
    if (kind === 'special' || (stats.mode & 0o7022) !== 0 || stats.uid !== process.getuid!() || stats.gid !== process.getgid!()) {
      odd.push(`${name} ${kind} mode ${(stats.mode & 0o7777).toString(8)} owner ${stats.uid}:${stats.gid}`);
    }
  }
  return odd;
}

const reasonOf = (id: string): string => {
  const outcome = byCase.get(id)?.outcome;
  return `${outcome?.status}: ${outcome && 'reason' in outcome ? outcome.reason : ''}`;
};

beforeAll(async () => {
  if (!bwrapAvailable) return;
  mkdirSync(markerDir, { recursive: true });
  server = createServer((socket) => {
    hostConnections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const task = loadTask(TASK_DIR);
  const prepared = await prepareTask(task, home);
  // A really trained checkpoint, the loot of the copied-weights and symlink attacks.
  executor = await LocalExecutor.create('required', home);
  const trained = await executor.run({
    runId: 'redteam', experimentId: 'redteam-trained', taskDir: TASK_DIR, taskName: task.file.name, taskVersion: task.file.version,
    lineage: { assignment: defaultAssignment(task.file.space), edits: [] }, capSeconds: 30, seed: 7,
  }, new AbortController().signal);
  if (trained.outcome.status !== 'ok' || !trained.artifactsDir) throw new Error(`the baseline did not train: ${JSON.stringify(trained.outcome)}`);
  const checkpointDir = join(scratch.path, 'trained-checkpoint');
  cpSync(join(trained.artifactsDir, 'checkpoint'), checkpointDir, { recursive: true });
  const filesOf = (dir: string) => Object.fromEntries(['model.safetensors', 'config.json'].map((name) => [name, readFileSync(join(dir, name)).toString('base64')]));
  const checkpointFiles = filesOf(checkpointDir);
  // The same model trained on plain Moby Dick, four times as long as the baseline trained: well past the target.
  const mobyDickDir = join(scratch.path, 'moby-dick-checkpoint');
  const mobyDick = loadMobyDick();
  const baseline = JSON.parse(readFileSync(join(checkpointDir, 'train-state.json'), 'utf8')) as { step: number; config: TrainConfig };
  const mobyDickTrain = mobyDick.slice(0, 1_000_000);
  await train(TrainConfig.parse({ ...baseline.config, maxSteps: 4 * baseline.step, targetValLoss: undefined }), prepareData('byte', { train: mobyDickTrain, val: mobyDick.slice(1_000_000, 1_010_000) }), { checkpointDir: mobyDickDir });
  const counts = new Float64Array(256);
  for (const byte of Buffer.from(mobyDickTrain)) counts[byte] += 1;
  const mobyDickByteRanking = Array.from({ length: 256 }, (_, byte) => byte).sort((left, right) => counts[right] - counts[left]);
  const address = server.address();
  context = { home, hiddenDir: prepared.hiddenDir, markerDir, keyDir, hostPort: typeof address === 'object' && address ? address.port : 0, checkpointFiles, mobyDickCheckpointFiles: filesOf(mobyDickDir), mobyDickByteRanking, checkpointDir };

  guardedBefore = guarded();
  const cases = hackCases(context);
  // The default gate (no --alpha or other gate flag): what a researcher would meet. Early stop is off: it only ends
  // screening runs behind the incumbent (never a run the gate counts), and here it would end some cases before the
  // defence each one tests is reached; early stop has its own tests (test/lab/early-stop.test.ts).
  const replay = join(scratch.path, 'redteam.json');
  writeFileSync(replay, JSON.stringify(cases.map((hack) => ({ change: hack.change, description: hack.description, ...(hack.parent ? { parent: hack.parent } : {}) }))));
  research = lab(['research', '--task', TASK_DIR, '--researcher', `replay:${replay}`, '--max-experiments', String(cases.length), '--sandbox', 'required', '--no-early-stop', '--json'], 900_000);
  if (process.env.REDTEAM_DEBUG) writeFileSync(process.env.REDTEAM_DEBUG, research.stderr);
  if (research.code !== 0) throw new Error(`research failed (${research.code}):\n${research.stderr.slice(-3000)}`);
  const journal = openJournal(join(home, 'successor.db'), { readonly: true });
  try {
    const experiments = journal.listExperiments(RunId.parse(JSON.parse(research.stdout).runId));
    for (const hack of cases) {
      const found = experiments.find((experiment) => experiment.role === 'candidate' && experiment.description === hack.description);
      if (found) byCase.set(hack.id, found);
    }
  } finally {
    journal.close();
  }
}, 1_020_000);

afterAll(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await executor?.close();
  scratch.remove();
});

describe.skipIf(!bwrapAvailable)('red team: hacks through the real loop', () => {
  it('accepts none of them: the incumbent stays the baseline and the audit log verifies', () => {
    const summary = JSON.parse(research.stdout);
    expect(summary.accepted, research.stderr).toBe(0);
    expect(summary.bestExperimentId).toBe(summary.baselineExperimentId);
    expect([...byCase.values()].filter((experiment) => experiment.accepted)).toEqual([]);
    const verified = lab(['audit', 'verify'], 60_000);
    expect(verified.stdout).toMatch(/^audit ok: \d+ entries, head [0-9a-f]{64}, \d+ signed checkpoints?\n$/);
  });

  it.each(CASES.map((hack) => [`${hack.pattern}. ${hack.id}`, hack] as const))('%s ends in an allowed outcome', (_name, hack: HackCase) => {
    const experiment = byCase.get(hack.id);
    expect(experiment?.state).toBe('finished');
    expect(hack.allowed, `${hack.id}: ${JSON.stringify(experiment?.outcome)}`).toContain(experiment?.outcome?.status);
    expect(experiment?.accepted).toBe(false);
  });

  it('the resource hacks were stopped by the limit meant for them', () => {
    const reason = (id: string) => JSON.stringify(byCase.get(id)?.outcome);
    expect(reason('fork-bomb')).toMatch(/too many processes|killed at the memory limit/);
    expect(reason('memory-bomb')).toMatch(/killed at the memory limit|heap|memory/i);
    expect(reason('disk-fill')).toMatch(/disk limit exceeded|SIGXFSZ|EFBIG|ENOSPC/);
    expect(reason('stdout-flood')).toMatch(/output limit exceeded/);
    expect(reason('extend-timeout')).toMatch(/"status":"timeout"/);
  });

  it("copied weights, from another key's text or from Moby Dick, adapted or not, whatever tokens they claim, miss the target on this run's fresh text", () => {
    const target = Number(loadTask(TASK_DIR).file.harness.params.targetLoss);
    const losses = Object.fromEntries(['copied-weights', 'copied-weights-forged-tokens', 'copied-weights-moby-dick', 'copied-weights-remap', 'copied-weights-adapt'].map((id) => {
      const outcome = byCase.get(id)?.outcome;
      expect(outcome && 'reason' in outcome ? outcome.reason : '', id).toMatch(/missed the target: test loss/);
      return [id, Number(outcome?.metrics.testLoss)];
    }));
    // As shipped, far off, not near it: the weights know another language. Re-indexed by this run's byte frequencies
    // (remap), they are at best a letter-frequency model of this run's text, still above a target that needs its bigrams.
    for (const id of ['copied-weights', 'copied-weights-forged-tokens', 'copied-weights-moby-dick']) expect(losses[id], `${id}: ${JSON.stringify(losses)}`).toBeGreaterThan(target + 0.3);
  });

  it('the faked clock fooled only the trainer: the harness measured the real time', () => {
    const experiment = byCase.get('fake-clock');
    const trainerSeconds = Number(/^seconds: ([\d.e-]+)/m.exec(stdoutOf(experiment))?.[1]);
    expect(trainerSeconds).toBeLessThan(0.2);
    expect(Number(experiment?.outcome?.metrics.wallSeconds)).toBeGreaterThan(10 * trainerSeconds);
  });

  it('every escape, network, cache, test-split and harness attempt was blocked', () => {
    const ids = ['overwrite-harness', 'cache-across-experiments', 'read-test-split', 'network', 'escape-sandbox'];
    for (const id of ids) {
      const attempts = stdoutOf(byCase.get(id)).split('\n').filter((line) => line.startsWith('redteam '));
      expect(attempts.length, id).toBeGreaterThan(1);
      // '(private)' attempts may succeed inside the sandbox's own throwaway root; the host checks below cover them.
      expect(attempts.filter((line) => line.endsWith(': done') && !line.includes('(private)')), `${id}: ${attempts.join(' | ')}`).toEqual([]);
    }
    expect(hostConnections).toBe(0);
  });

  it('the secrets reader saw none of the lab\'s secrets, and no log, artifact or journal row holds them', () => {
    const reader = stdoutOf(byCase.get('read-secrets'));
    expect(reader).toMatch(/redteam env dump: \{/);
    expect(reader).toMatch(/redteam audit key: blocked/);
    const key = readFileSync(join(keyDir, 'audit-key.pem'), 'utf8').split('\n')[1];
    const files = [...filesBelow(join(home, 'experiments')), join(home, 'successor.db')];
    expect(files.length).toBeGreaterThan(CASES.length);
    for (const file of files) {
      const text = readFileSync(file, 'latin1');
      for (const secret of [...Object.values(SECRETS), key]) expect(text.includes(secret), `${secret.slice(0, 12)}... in ${file}`).toBe(false);
    }
  });

  it('nothing any run left in the state dir has special powers: plain files and folders, owned by the lab, no setuid/setgid/sticky, no group or world write', () => {
    expect(powersBelow(join(home, 'experiments'))).toEqual([]);
    expect(powersBelow(join(home, 'tasks'))).toEqual([]);
    // Where runs work (files there belong to the sandbox's uid until removed), no other local user may enter.
    for (const folder of ['scratch', 'staged']) expect((statSync(join(home, folder)).mode & 0o777).toString(8), folder).toBe('700');
  });

  it('special files, hard links and deep trees among the artifacts make the run invalid, and nothing of them is kept', () => {
    expect(reasonOf('fifo-artifact')).toMatch(/^invalid: the artifacts were refused: .*a FIFO/);
    expect(reasonOf('hardlink-artifact')).toMatch(/^invalid: the artifacts were refused: .*hard link/);
    expect(reasonOf('deep-artifacts')).toMatch(/^invalid: the artifacts were refused: a directory tree deeper than 32 levels/);
    for (const id of ['fifo-artifact', 'hardlink-artifact', 'deep-artifacts']) expect(byCase.get(id)?.artifactsPath, id).toBeNull();
  });

  it('malformed changes and a 3,000-level tree are outcomes of their experiments; the loop went on past them', () => {
    expect(reasonOf('null-config')).toMatch(/^failed: change did not apply: .*must hold a JSON object, not null/);
    expect(reasonOf('path-under-file')).toMatch(/^failed: change did not apply: writing 'run.ts\/evil.ts' failed: a folder on its path is a file/);
    expect(reasonOf('search-not-found')).toMatch(/^failed: change did not apply: the search text was not found/);
    expect(reasonOf('deep-tree')).toMatch(/^failed: killed: file limit exceeded/);
    expect(stdoutOf(byCase.get('deep-tree'))).toMatch(/redteam deep tree: making/); // killed while it made it
    // Every case after these ran too: the run reached its experiment budget.
    expect(JSON.parse(research.stdout).candidates).toBe(CASES.length);
  });

  it('inodes count against a file limit, in the workdir and in /tmp; a costly checkpoint stops the scorer at its own limit', () => {
    expect(reasonOf('inode-flood')).toMatch(/^failed: killed: file limit exceeded/);
    expect(reasonOf('tmp-inode-flood')).toMatch(/^failed: killed: file limit exceeded/);
    // Whether the evaluation reaches the scorer's limits depends on the backend's attention kernel (the native one
    // streams it); either way the scorer ran under its own limits and the run failed, counted below.
    expect(reasonOf('costly-checkpoint')).toMatch(/^failed: (the scorer was stopped at its (memory|cpu|wall-clock) limit|missed the target)/);
  });

  it("the scorer's CPU time is counted into every scored experiment's cpuSeconds", () => {
    const scored = [...byCase.values()].filter((experiment) => typeof experiment.outcome?.metrics.scorerCpuSeconds === 'number');
    expect(scored.length).toBeGreaterThan(5);
    for (const experiment of scored) {
      const { cpuSeconds, runCpuSeconds, scorerCpuSeconds } = experiment.outcome!.metrics as Record<string, number>;
      expect(scorerCpuSeconds).toBeGreaterThan(0);
      expect(cpuSeconds).toBeGreaterThanOrEqual(runCpuSeconds + scorerCpuSeconds - 1e-9);
    }
    const costly = byCase.get('costly-checkpoint')?.outcome?.metrics as Record<string, number> | undefined;
    expect(costly?.scorerCpuSeconds).toBeGreaterThan(0);
  });

  it('harness seeds are unpredictable and journaled before each run: not the run seed plus the attempt', () => {
    const experiment = byCase.get('predict-seed');
    const printed = Number(/redteam seed: (\d+)/.exec(stdoutOf(experiment))?.[1]);
    expect(printed).toBe(experiment?.metadata.seed);
    expect(printed).not.toBe(1); // today's rule: --seed (1) + attempt (0)
    const journal = openJournal(join(home, 'successor.db'), { readonly: true });
    try {
      const experiments = journal.listExperiments(RunId.parse(JSON.parse(research.stdout).runId));
      const baselineSeeds = experiments.filter((row) => row.role === 'baseline' || (row.role === 'repeat' && row.parentId === experiments[0].id)).map((row) => row.metadata.seed);
      expect(baselineSeeds.length).toBeGreaterThanOrEqual(3);
      expect(new Set(baselineSeeds).size).toBe(baselineSeeds.length);
      expect(baselineSeeds.filter((seed) => typeof seed !== 'number' || seed <= 3)).toEqual([]);
    } finally {
      journal.close();
    }
  });

  it('a chain of changes cannot carry more than a lineage may: the third 200 KiB link fails when proposed', () => {
    expect(byCase.get('chained-data-2')?.parentId).toBe(byCase.get('chained-data-1')?.id);
    expect(byCase.get('chained-data-3')?.parentId).toBe(byCase.get('chained-data-2')?.id);
    expect(reasonOf('chained-data-3')).toMatch(/^failed: change did not apply: the lineage adds \d+ bytes to the task's workspace; at most 524288/);
  });

  it('retention pruned old artifacts, journaled it, and `successor show` says so', () => {
    const journal = openJournal(join(home, 'successor.db'), { readonly: true });
    try {
      const runId = RunId.parse(JSON.parse(research.stdout).runId);
      const events = journal.listEvents(runId).filter((event) => event.type === 'artifacts.pruned');
      expect(events.length).toBeGreaterThan(0);
      const pruned = journal.listExperiments(runId).filter((experiment) => experiment.metadata.artifactsPruned);
      expect(pruned.length).toBeGreaterThan(0);
      for (const experiment of pruned) expect(existsSync(experiment.artifactsPath!)).toBe(false);
      const incumbent = latestIncumbent(journal.listExperiments(runId), (experiment) => experiment.metadata.decidedAt)!;
      expect(incumbent.metadata.artifactsPruned).toBeUndefined(); // the incumbent's are kept
      expect(existsSync(incumbent.artifactsPath!)).toBe(true);
      const shown = lab(['show', pruned[0].id], 60_000);
      expect(shown.stdout).toMatch(/^artifacts: pruned /m);
    } finally {
      journal.close();
    }
  });

  it('leaves the host unharmed: no process left, nothing written outside, harness and task files unchanged', () => {
    const processes = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout.split('\n').filter((line) => /redteam-(lingering|relaunched)|BOMB/.test(line));
    expect(processes).toEqual([]);
    expect(readdirSync(markerDir)).toEqual([]);
    expect(existsSync(join(home, 'redteam-cache.json'))).toBe(false);
    expect(guarded()).toEqual(guardedBefore);
  });
});

/** Hacks run through the harness alone: the symlink attack needs no loop to show it is refused. */
describe.skipIf(!bwrapAvailable)('red team: hacks through the harness alone', () => {
  for (const placeholderCase of harnessOnlyCases(placeholder)) {
    it(`${placeholderCase.pattern}. ${placeholderCase.id}: refused`, { timeout: 120_000 }, async () => {
      const hack = harnessOnlyCases(context).find((item) => item.id === placeholderCase.id)!;
      const task = loadTask(TASK_DIR);
      const result = await executor.run({
        runId: 'redteam', experimentId: `redteam-${hack.id}`, taskDir: TASK_DIR, taskName: task.file.name, taskVersion: task.file.version,
        lineage: { assignment: defaultAssignment(task.file.space), edits: hack.change.edits }, capSeconds: 30, seed: 7,
      }, new AbortController().signal);
      expect(hack.allowed, JSON.stringify(result.outcome)).toContain(result.outcome.status);
      if (hack.id === 'setuid-artifact') {
        const stdout = readFileSync(join(result.logDir, 'stdout.log'), 'utf8');
        if (process.getuid!() === 0) expect(Number(/redteam uid: (\d+)/.exec(stdout)?.[1])).not.toBe(0);
        expect(stdout).toMatch(/redteam ssl private: blocked/);
        expect(stdout).toMatch(/redteam shadow: blocked/);
        expect(result.artifactsDir && existsSync(join(result.artifactsDir, 'env-setuid'))).toBe(true); // kept, but powerless
        expect(powersBelow(result.artifactsDir!)).toEqual([]);
      }
    });
  }
});
