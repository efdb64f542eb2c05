/**
 * The built-in PyTorch task, shortened: a copy of tasks/torch-speedrun with an easy target, run through `task check`
 * in the bubblewrap sandbox — the TypeScript prepare, the Python stage (a per-run cipher), the workspace's train.py
 * and the trusted Python scorer that evaluates its checkpoint on the hidden split. A run that stops short of the
 * target fails with the scorer's reason. Needs Debian's python3-torch (.ci/run installs it); skipped, saying so,
 * where /usr/bin/python3 cannot import torch.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, temporaryDir } from '../lab/fixtures.js';

const torchAvailable = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { timeout: 60_000 }).status === 0;
const bwrapAvailable = existsSync('/usr/bin/bwrap');
if (process.env.CI === 'true' && !torchAvailable) throw new Error('python3-torch is required under CI=true (apt-get install -y python3-torch)');

if (!torchAvailable || !bwrapAvailable) {
  it.skip(`torch-speedrun (skipped: ${!torchAvailable ? '/usr/bin/python3 cannot import torch: apt-get install -y python3-torch' : 'no bubblewrap'})`, () => {});
} else {
  describe('torch-speedrun, shortened, in the bubblewrap sandbox', () => {
    const scratch = temporaryDir('successor-torch-speedrun-');
    afterAll(() => scratch.remove());
    const home = join(scratch.path, 'home');
    const dir = join(scratch.path, 'torch-speedrun');
    cpSync(join(ROOT, 'tasks/torch-speedrun'), dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n'); // prepare.ts: the built-in task has the project's
    const edit = (path: string, change: (json: Record<string, any>) => void) => {
      const json = JSON.parse(readFileSync(join(dir, path), 'utf8'));
      change(json);
      writeFileSync(join(dir, path), JSON.stringify(json, null, 2));
    };
    /** The baseline's settings: the space's defaults, which the harness writes into config.json for every run. */
    const baseline = (settings: Record<string, number>) => edit('task.json', (file) => {
      for (const [knob, value] of Object.entries(settings)) {
        const spec = file.space[knob];
        if (spec.type === 'categorical') spec.choices = [...new Set([...spec.choices, value])];
        else Object.assign(spec, { min: Math.min(spec.min, value), max: Math.max(spec.max, value) });
        spec.default = value;
      }
    });
    // A loss a few hundred steps reach (the unigram entropy of English bytes is about 3.1 nats).
    edit('task.json', (file) => { file.harness.params = { ...file.harness.params, targetLoss: 3.3, evalTokens: 4096 }; file.run.limits.wallSeconds = 200; });
    baseline({ targetValLoss: 3.1, evalInterval: 10, evalTokens: 2048, maxSteps: 300, threads: 2 });

    it('its baseline passes the Python scorer on the hidden split', { timeout: 400_000 }, () => {
      const result = runCli(['task', 'check', dir, '--repeats', '1', '--sandbox', 'required', '--json'], home, { timeoutMs: 380_000 });
      expect(result.code, result.stderr).toBe(0);
      const [run] = JSON.parse(result.stdout).details;
      expect(run).toMatchObject({ status: 'ok', metrics: { targetLoss: 3.3, layers: 2, width: 64 } });
      expect(run.metrics.testLoss).toBeLessThanOrEqual(3.3);
      expect(run.metrics.testLoss).toBeGreaterThan(0.6);
    });

    it('a run that stops short of the target fails with the scorer\'s reason', { timeout: 400_000 }, () => {
      baseline({ maxSteps: 5, evalInterval: 5, targetValLoss: 0.1 });
      const result = runCli(['task', 'check', dir, '--repeats', '1', '--sandbox', 'required', '--json'], home, { timeoutMs: 380_000 });
      expect(result.code).toBe(1);
      const [run] = JSON.parse(result.stdout).details;
      expect(run).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^missed the target: test loss [0-9.]+ > 3\.3$/) });
    });
  });
}
