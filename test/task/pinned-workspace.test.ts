/**
 * The lm-speedrun workspace is pinned: its trainer files must hash to what PINNED records, so a later speed-up of
 * src/gpt never silently moves the baseline that speedups are measured against. Re-pinning is deliberate:
 * `node bin/run-ts.js scripts/pin-workspace.ts`, a new task version, and a new calibration.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_TASKS_DIR, loadTask } from '../../src/task/loader.js';
import { hashFolder } from '../../src/task/prepare.js';

describe('the pinned lm-speedrun workspace', () => {
  it('hashes to the value recorded when it was pinned', () => {
    const workspace = join(BUILTIN_TASKS_DIR, 'lm-speedrun/workspace');
    const recorded = /sha256 of the trainer files: ([0-9a-f]{64})/.exec(readFileSync(join(workspace, 'PINNED'), 'utf8'))?.[1];
    expect(recorded).toBeDefined();
    expect(hashFolder(workspace, ['config.json', 'PINNED', 'package.json'])).toBe(recorded);
  });

  it('its baseline config is the documented benchmark config', () => {
    const task = loadTask('lm-speedrun');
    const config = JSON.parse(readFileSync(join(task.workspaceDir, 'config.json'), 'utf8'));
    expect(config.model).toMatchObject({ vocabSize: 256, contextLength: 128, layers: 4, heads: 4, width: 128 });
    expect(config).toMatchObject({ batchSize: 32, learningRate: 0.001, schedule: 'cosine' });
    for (const [name, knob] of Object.entries(task.file.space)) {
      const value = (knob.key ?? name).split('.').reduce<any>((node, key) => node?.[key], config);
      expect(value, `knob ${name} default must equal the pinned config`).toEqual(knob.default);
    }
  });
});
