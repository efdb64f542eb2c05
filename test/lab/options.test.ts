/**
 * Run options have one schema, and every entry point goes through it: the same bad value gets the same clear line
 * from `successor research`, `successor mcp` and `successor bench`, exit 2, before any state is written.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunRow } from '../../src/journal/journal.js';
import { DEFAULT_GATE, RunOptionsError, optionsOf, parseRunOptions } from '../../src/lab/options.js';
import { FIXTURE_TASKS, runCli, temporaryDir } from './fixtures.js';

const home = temporaryDir('successor-options-');
afterAll(() => home.remove());
const SLEEPY = join(FIXTURE_TASKS, 'sleepy');

describe('parseRunOptions', () => {
  it('fills the defaults and keeps what was given', () => {
    const options = parseRunOptions({ task: 'lm-speedrun', researcher: 'search', budgetSeconds: 60, gate: { alpha: 0.01 } });
    expect(options).toMatchObject({ parallel: 1, approval: 'auto', maxExperiments: null, sandboxMode: 'auto', baseExperimentId: null });
    expect(options.gate).toEqual({ ...DEFAULT_GATE, alpha: 0.01 });
  });

  it.each([
    [{ parallel: 0 }, /parallel: .*>=1/],
    [{ budgetSeconds: -5 }, /budgetSeconds: /],
    [{ approval: 'sometimes' }, /approval: /],
    [{ gate: { repeats: 1 } }, /gate\.repeats: /],
    [{ gate: { alpha: 2 } }, /gate\.alpha: /],
    [{ sandboxMode: 'maybe' }, /sandboxMode: /],
    [{ stopRequested: true }, /Unrecognized key.*stopRequested/],
  ])('names the bad field of %j', (bad, message) => {
    expect(() => parseRunOptions({ task: 't', researcher: 'search', ...bad } as never)).toThrow(RunOptionsError);
    expect(() => parseRunOptions({ task: 't', researcher: 'search', ...bad } as never)).toThrow(message);
  });

  it('reads stored options back through the schema, and refuses ones it cannot read', () => {
    const stored = { ...parseRunOptions({ task: 't', researcher: 'search' }), stopRequested: { reason: 'an older lab stored this' } };
    const run = { id: 'run_000000000001', options: stored } as unknown as RunRow;
    expect(optionsOf(run)).not.toHaveProperty('stopRequested');
    expect(() => optionsOf({ ...run, options: { task: 't' } })).toThrow(/run run_000000000001 has options this lab cannot read: researcher/);
  });
});

describe('every entry point', () => {
  const expectRefused = (args: string[], message: RegExp) => {
    const state = join(home.path, `state-${args[0]}`);
    const result = runCli(args, state);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(existsSync(join(state, 'successor.db'))).toBe(false);
  };

  it('successor research refuses bad options with one line and leaves no journal', () => {
    expectRefused(['research', '--task', SLEEPY, '--max-experiments', '1', '--parallel', '0', '--sandbox', 'off'], /invalid run options: parallel/);
    expectRefused(['research', '--task', SLEEPY, '--max-experiments', '1', '--approval', 'sometimes', '--sandbox', 'off'], /invalid run options: approval/);
  });

  it('successor mcp refuses them the same way', () => {
    expectRefused(['mcp', '--task', SLEEPY, '--repeats', '1', '--sandbox', 'off'], /invalid run options: gate\.repeats/);
  });

  it('successor bench refuses them the same way, before any run', () => {
    expectRefused(['bench', '--tasks', 'tune-hyperparameters', '--repeats', '25', '--sandbox', 'off'], /invalid run options: gate\.repeats/);
  });
});
