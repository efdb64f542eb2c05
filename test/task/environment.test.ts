/**
 * A task's declared environment against this machine (src/task/environment.ts): every declaration it cannot honour
 * is one line that names the field — a scorer command that does not exist, a mount that is missing or inside the
 * lab's state dir, a device that is absent — from the library and through the CLI. Then what a declared device
 * becomes: `gpu` from a machine that has one (a stand-in host), and a real device node (/dev/fuse, outside the
 * sandbox's minimal /dev) bound into the bubblewrap sandbox only when declared.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type DeviceHost, gpuGrant, resolveEnvironment } from '../../src/task/environment.js';
import { loadTask } from '../../src/task/loader.js';
import { writeTaskSkeleton } from '../../src/task/scaffold.js';
import { createSandbox } from '../../src/sandbox/index.js';
import { runCli, temporaryDir } from '../lab/fixtures.js';
import { smallLimits } from '../sandbox/contract.js';

const scratch = temporaryDir('successor-environment-');
afterAll(() => scratch.remove());
const stateDir = join(scratch.path, 'home');
mkdirSync(stateDir);

let count = 0;
/** A fresh Python task from the scaffold, with task.json changed by `edit`. */
function task(edit: (file: Record<string, any>) => void = () => {}): string {
  const dir = join(scratch.path, `task-${++count}`);
  writeTaskSkeleton({ dir, name: `task-${count}`, command: ['python3', 'train.py'], metric: { name: 'accuracy', direction: 'maximize' }, language: 'python' });
  const file = JSON.parse(readFileSync(join(dir, 'task.json'), 'utf8'));
  edit(file);
  writeFileSync(join(dir, 'task.json'), JSON.stringify(file, null, 2));
  return dir;
}

const sandboxed = await createSandbox('auto');
const resolveIn = (dir: string, host?: DeviceHost) => resolveEnvironment(loadTask(dir), stateDir, host);
const noGpu: DeviceHost = { deviceNames: () => ['null', 'zero'], libraryListing: () => '' };

describe('bad task input: one line naming the field', () => {
  it('a scorer program that is not installed', () => {
    const dir = task((file) => { file.harness.score = ['python3.99', 'score.py']; });
    expect(() => resolveIn(dir)).toThrow(/task\.json: harness\.score: 'python3\.99' is not on the sandbox's PATH/);
  });

  it('a scorer program named by a path that is not there', () => {
    const dir = task((file) => { file.harness.score = ['/opt/no-such-env/bin/python', 'score.py']; });
    expect(() => resolveIn(dir)).toThrow(/harness\.score: '\/opt\/no-such-env\/bin\/python' is not an executable file on this machine/);
  });

  it('a scorer script that is not in the harness folder (the loader, before anything runs)', () => {
    const dir = task((file) => { file.harness.score = ['python3', 'scorer.py']; });
    expect(() => loadTask(dir)).toThrow(/harness\.score.*'scorer\.py' is not a file in the harness folder/);
  });

  it('a run program outside everything the sandbox shows', () => {
    const outside = join(scratch.path, 'venv', 'bin');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'python'), '#!/bin/sh\n', { mode: 0o755 });
    const dir = task((file) => { file.run.command = [join(outside, 'python'), 'train.py']; });
    expect(() => resolveIn(dir)).toThrow(/run\.command: .* is outside everything the sandbox shows: add its folder to environment\.mounts/);
    const mounted = task((file) => { file.run.command = [join(outside, 'python'), 'train.py']; file.environment.mounts = [join(scratch.path, 'venv')]; });
    expect(resolveIn(mounted).readOnlyPaths).toEqual([join(scratch.path, 'venv')]);
  });

  it('a mount that is missing', () => {
    const dir = task((file) => { file.environment.mounts = ['/no/such/folder']; });
    expect(() => resolveIn(dir)).toThrow(/task\.json: environment\.mounts\.0: '\/no\/such\/folder' does not exist on this machine$/);
    const relative = task((file) => { file.environment.mounts = ['data']; });
    expect(() => resolveIn(relative)).toThrow(/environment\.mounts\.0: 'data' does not exist on this machine \(relative paths are inside the task folder: .*\/data\)/);
    const harnessOnly = task((file) => { file.environment.harnessMounts = ['/no/such/raw-data']; });
    expect(() => resolveIn(harnessOnly)).toThrow(/environment\.harnessMounts\.0: '\/no\/such\/raw-data' does not exist/);
  });

  it('a mount inside the lab\'s state dir, or holding it', () => {
    mkdirSync(join(stateDir, 'artifacts'), { recursive: true });
    const inside = task((file) => { file.environment.mounts = [join(stateDir, 'artifacts')]; });
    expect(() => resolveIn(inside)).toThrow(/environment\.mounts\.0: '.*\/home\/artifacts' is inside the lab's state dir/);
    const holding = task((file) => { file.environment.mounts = ['/tmp', scratch.path]; });
    expect(() => resolveIn(holding)).toThrow(/environment\.mounts\.0: '\/tmp' holds the lab's state dir/);
    const root = task((file) => { file.environment.mounts = ['/'] ; });
    expect(() => resolveIn(root)).toThrow(/environment\.mounts\.0: '\/' is the whole file system/);
  });

  it('a mount the sandbox\'s unprivileged user cannot read is a note, not an error (root may run unsandboxed)', () => {
    const private_ = join(scratch.path, 'private');
    mkdirSync(private_, { mode: 0o700 });
    const dir = task((file) => { file.environment.mounts = [private_]; });
    expect(resolveIn(dir).notes).toEqual([expect.stringMatching(/private \(mode 700\) is not readable by every user/)]);
  });

  it('a device that is absent', () => {
    const dir = task((file) => { file.environment.devices = ['/dev/no-such-device']; });
    expect(() => resolveIn(dir)).toThrow(/environment\.devices\.0: '\/dev\/no-such-device' does not exist on this machine$/);
    const gpu = task((file) => { file.environment.devices = ['gpu']; });
    expect(() => resolveIn(gpu, noGpu)).toThrow(/environment\.devices\.0: 'gpu' needs NVIDIA's device nodes .* this machine has none/);
  });

  it('a disk is not a device a run may have', () => {
    if (!existsSync('/dev/loop0')) return;
    const dir = task((file) => { file.environment.devices = ['/dev/loop0']; });
    expect(() => resolveIn(dir)).toThrow(/environment\.devices\.0: '\/dev\/loop0' is a block device/);
  });

  it('through the CLI: task check and research exit 2 with that one line', () => {
    const home = join(scratch.path, 'cli-home');
    const missingMount = task((file) => { file.environment.mounts = ['/no/such/folder']; });
    const check = runCli(['task', 'check', missingMount, '--repeats', '1'], home);
    expect(check.code).toBe(2);
    expect(check.stderr.trim().split('\n')).toEqual([expect.stringMatching(/environment\.mounts\.0: '\/no\/such\/folder' does not exist on this machine/)]);

    const missingScorer = task((file) => { file.harness.score = ['python3.99', 'score.py']; });
    const research = runCli(['research', '--task', missingScorer, '--max-experiments', '1', '--sandbox', 'off'], home);
    expect(research.code).toBe(2);
    expect(research.stderr.trim().split('\n')).toEqual([expect.stringMatching(/harness\.score: 'python3\.99' is not on the sandbox's PATH/)]);
  });

  it('through task new: a flag that names what is not there', () => {
    const home = join(scratch.path, 'cli-home');
    const base = ['task', 'new', '--command', 'python3 train.py', '--metric', 'accuracy', '--maximize', '--scorer', 'python'];
    const cases: Array<[string[], RegExp]> = [
      [['--mount', '/no/such/folder'], /--mount: '\/no\/such\/folder' does not exist on this machine/],
      [['--device', '/dev/no-such-device'], /--device: '\/dev\/no-such-device' does not exist on this machine/],
      [['--scorer', 'fortran'], /--scorer must be python or typescript/],
      [['--variable', 'HF_TOKEN'], /--variable: 'HF_TOKEN' looks like a secret.*--allow-secret/],
    ];
    for (const [flags, message] of cases) {
      const dir = join(scratch.path, `new-${++count}`);
      const result = runCli([...base.slice(0, 2), dir, ...base.slice(2), ...flags], home);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
      expect(existsSync(dir)).toBe(false);
    }
  });
});

describe('devices', () => {
  it('gpu: the NVIDIA nodes, and driver folders outside the system folders, from a machine that has them', () => {
    const host: DeviceHost = {
      deviceNames: () => ['null', 'nvidia0', 'nvidia-uvm', 'nvidiactl', 'nvidia-caps', 'zero'],
      libraryListing: () => [
        '\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1',
        '\tlibnvidia-ml.so.1 (libc6,x86-64) => /opt/nvidia/lib64/libnvidia-ml.so.1',
        '\tlibz.so.1 (libc6,x86-64) => /opt/other/libz.so.1',
      ].join('\n'),
    };
    expect(gpuGrant(host)).toEqual({
      nodes: ['/dev/nvidia-caps', '/dev/nvidia-uvm', '/dev/nvidia0', '/dev/nvidiactl'],
      readOnlyPaths: ['/opt/nvidia/lib64', '/sys'],
    });
    expect(gpuGrant(noGpu)).toBeNull();
  });

  it.skipIf(sandboxed.kind !== 'bubblewrap' || !existsSync('/dev/fuse'))('a declared device node is in the sandbox; an undeclared one is not', async () => {
    const dir = task((file) => { file.environment.devices = ['/dev/fuse']; });
    const environment = resolveIn(dir);
    expect(environment.devices).toEqual(['/dev/fuse']);
    const workdir = join(scratch.path, 'device-workdir');
    mkdirSync(workdir);
    const probe = (devices: string[]) => sandboxed.run({
      command: ['/bin/sh', '-c', 'test -c /dev/fuse && echo present || echo absent'], workdir, readOnlyPaths: [], devices,
      env: { PATH: '/usr/bin:/bin', HOME: workdir }, limits: smallLimits,
    });
    const declared = await probe(environment.devices);
    expect(declared.stdout.trim()).toBe('present');
    const undeclared = await probe([]);
    expect(undeclared.stdout.trim()).toBe('absent');
  });
});
