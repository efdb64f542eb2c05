/**
 * The live progress of `successor research` (src/cli/progress.ts) on a terminal and in a log, with a fake clock; and
 * through the real CLI on a pseudo-terminal, with a task that prints its own progress lines.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExperimentRow } from '../../src/journal/journal.js';
import { LiveProgress, claimOf } from '../../src/cli/progress.js';
import { findExecutable } from '../../src/sandbox/enforcement.js';
import { formatNumber, formatRatio, formatSeconds } from '../../src/task/format-number.js';
import { CLI, ROOT, removeTemporaryDirs, temporaryDir } from './fixtures.js';

afterAll(removeTemporaryDirs);

const STEPPER = join(ROOT, 'test/fixtures/tasks/stepper');

const experiment = (seq: number, overrides: Partial<ExperimentRow> = {}) => ({
  id: `exp_00000000000${seq}`, seq, role: 'candidate', description: 'halve the delay', outcome: null, metadata: {}, ...overrides,
}) as unknown as ExperimentRow;

function setup(tty: boolean) {
  let nowMs = 0;
  const written: string[] = [];
  const progress = new LiveProgress({ isTTY: tty, columns: 200, write: (text: string) => written.push(text) }, { now: () => nowMs, plainEverySeconds: 30 });
  return { progress, written, advance: (seconds: number) => { nowMs += seconds * 1000; } };
}

describe('the live progress line', () => {
  it('on a terminal: redrawn in place with elapsed time against the cap and the run\'s claim, cleared before other lines', () => {
    const { progress, written, advance } = setup(true);
    progress.observe({ type: 'experiment.started', experiment: experiment(3), capSeconds: 45 });
    expect(written.join('')).toBe('#3 candidate halve the delay (cap 45s) ...\n\r#3 candidate 0s of 45s cap\x1b[K');
    written.length = 0;
    advance(12.46);
    progress.tick();
    expect(written).toEqual(['\r#3 candidate 12.5s of 45s cap\x1b[K']);
    written.length = 0;
    progress.observe({ type: 'experiment.progress', experiment: experiment(3), elapsedSeconds: 12, line: 'step 40/200 | loss 2.3141\x1b[2J\n' });
    expect(written).toEqual(['\r#3 candidate 12.5s of 45s cap · run says: "step 40/200 | loss 2.3141\\x1b[2J"\x1b[K']);
    written.length = 0;
    advance(20);
    progress.observe({ type: 'experiment.finished', experiment: experiment(3, { outcome: { status: 'ok', score: 32.456789, metrics: {} } }), best: 30.123456, budgetLeftSeconds: 600 });
    // The live line is cleared, the result printed, and nothing runs any more: no live line after it.
    expect(written.join('')).toBe('\r\x1b[K#3 candidate halve the delay: ok 32.5 (best 30.1, budget left 10m)\n');
    written.length = 0;
    progress.stop();
    expect(written).toEqual([]);
  });

  it('in a log: plain lines only, one per running experiment every plainEverySeconds, never a carriage return', () => {
    const { progress, written, advance } = setup(false);
    progress.observe({ type: 'experiment.started', experiment: experiment(1), capSeconds: 59.696625657000006 });
    progress.observe({ type: 'experiment.started', experiment: experiment(2), capSeconds: null });
    written.length = 0;
    advance(29);
    progress.tick();
    expect(written).toEqual([]);
    progress.observe({ type: 'experiment.progress', experiment: experiment(2), elapsedSeconds: 29, line: '  step 7 |  loss 3.9 ' });
    expect(written).toEqual([]);
    advance(1.5);
    progress.tick();
    expect(written).toEqual(['#1 candidate running 30.5s of 59.7s cap\n', '#2 candidate running 30.5s · run says: "step 7 | loss 3.9"\n']);
    expect(written.join('')).not.toContain('\r');
  });

  it('clips a long claim to one short line', () => {
    expect(claimOf('x'.repeat(500))).toHaveLength(80);
    expect(claimOf('a\n\tb')).toBe('a b');
  });
});

describe('numbers for people', () => {
  it.each([
    [59.696625657000006, '59.7'], [0.05, '0.05'], [2.4, '2.4'], [1234.5678, '1235'], [842496, '842496'], [0.000123456, '0.000123'],
    [1.23456e-7, '1.23e-7'], [100.04, '100'], [-3.14159, '-3.14'], [Number.NaN, 'NaN'],
  ])('%s -> %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });

  it('says seconds with a unit, and a ratio always with three figures', () => {
    expect(formatSeconds(59.696625657000006)).toBe('59.7s');
    expect([1, 5.3333, 12.345, 0.5].map(formatRatio)).toEqual(['1.00', '5.33', '12.3', '0.500']);
  });
});

describe('successor research on a terminal', () => {
  // A pseudo-terminal from util-linux's `script`, so the CLI's stderr is a TTY as in a user's shell.
  const script = findExecutable('script');
  it.skipIf(script === null)('redraws a live line with the run\'s own progress as its claim, and rounds for people', { timeout: 600_000 }, () => {
    const work = temporaryDir();
    const transcript = join(work, 'terminal.txt');
    const command = [process.execPath, CLI, 'research', '--task', STEPPER, '--max-experiments', '1', '--sandbox', 'off', '--repeats', '2']
      .map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(' ');
    const result = spawnSync(script!, ['-qefc', command, transcript], {
      cwd: work, env: { ...process.env, SUCCESSOR_HOME: join(work, 'lab'), NO_COLOR: '1', COLUMNS: '200' }, encoding: 'utf8', timeout: 580_000,
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const screen = readFileSync(transcript, 'utf8');
    // The live line: redrawn in place (carriage return, erase to the end of the line), the run's line marked as its claim.
    expect(screen).toMatch(/\r#\d+ (baseline|repeat) \d+(\.\d)?s(?: of \d+(\.\d+)?s cap)? · run says: "step \d+ val \d\.\d{4}"\x1b\[K/);
    // No raw float on the terminal: every number of the summary has at most 3 significant figures (or is an integer).
    // (The winning change's diff after it is the researcher's text, shown as it is.)
    const diffAt = screen.indexOf('winning change:');
    const summary = screen.slice(screen.lastIndexOf('run: run_'), diffAt === -1 ? undefined : diffAt);
    expect(summary).toMatch(/^run: run_\w+ \(stepper[^]*\nbaseline: \d/);
    for (const number of summary.match(/\d+\.\d+/g) ?? []) expect(number.replace('.', '').replace(/^0+/, '').length, number).toBeLessThanOrEqual(3);
  });
});
