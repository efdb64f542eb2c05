/**
 * The Executor contract, one suite for every implementation (local pool, Redis queue): a job in, the harness's
 * result out, with logs and artifacts on this machine; expected failures are outcomes, never exceptions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Executor, ExperimentJob } from '../../src/executor/types.js';
import { newExperimentId, newRunId } from '../../src/task/ids.js';
import type { Lineage } from '../../src/task/workspace.js';
import { SLEEPY_TASK } from './redis-processes.js';

export function sleepyJob(lineage: Partial<Lineage> = {}, overrides: Partial<ExperimentJob> = {}): ExperimentJob {
  return {
    runId: newRunId(),
    experimentId: newExperimentId(),
    taskDir: SLEEPY_TASK,
    taskName: 'sleepy',
    taskVersion: '1',
    lineage: { edits: [], assignment: { delayMs: 100 }, ...lineage },
    capSeconds: 20,
    seed: 1,
    ...overrides,
  };
}

const never = new AbortController().signal;

/** `context()` gives the executor under test; it is created and closed by the caller's hooks. */
export function executorContract(context: () => { executor: Executor }): void {
  it('describes where it runs', async () => {
    const description = await context().executor.describe();
    expect(description.sandbox.length).toBeGreaterThan(0);
    expect(Array.isArray(description.missing)).toBe(true);
  });

  it('runs a job to an ok outcome with its logs and artifacts on this machine', async () => {
    const result = await context().executor.run(sleepyJob(), never);
    expect(result.outcome.status).toBe('ok');
    expect(result.wallSeconds).toBeGreaterThan(0.05);
    expect(readFileSync(join(result.logDir, 'stdout.log'), 'utf8')).toContain('delay_ms: 100');
    expect(result.artifactsDir).not.toBeNull();
    expect(readFileSync(join(result.artifactsDir ?? '', 'answer.txt'), 'utf8')).toBe('42');
  });

  it('gives a crash as a failed outcome, not an exception', async () => {
    const result = await context().executor.run(sleepyJob({ assignment: { mode: 'crash' } }), never);
    expect(result.outcome.status).toBe('failed');
    expect(result.outcome.status === 'failed' && result.outcome.reason).toMatch(/exited with code 1/);
    expect(existsSync(join(result.logDir, 'stderr.log'))).toBe(true);
  });

  it('gives a change that does not apply as a failed outcome', async () => {
    const edits = [{ kind: 'replace' as const, path: 'config.json', search: 'no such text', replace: 'x' }];
    const result = await context().executor.run(sleepyJob({ edits }), never);
    expect(result.outcome.status === 'failed' && result.outcome.reason).toMatch(/change did not apply/);
  });

  it('stops a job at its wall-clock cap', async () => {
    const result = await context().executor.run(sleepyJob({ assignment: { delayMs: 3000 } }, { capSeconds: 1 }), never);
    expect(result.outcome.status).toBe('timeout');
  });

  it('resolves promptly when the lab stops it', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const startedMs = Date.now();
    const result = await context().executor.run(sleepyJob({ assignment: { delayMs: 3000 } }), controller.signal);
    expect(result.outcome.status).toBe('failed');
    expect(Date.now() - startedMs).toBeLessThan(2500);
  });
}
