// The Executor contract against the local executor (no sandbox: the sandbox has its own suite).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { LocalExecutor } from '../../src/executor/local.js';
import { executorContract } from './executor-contract.js';

describe('LocalExecutor', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'successor-local-executor-'));
  let executor: LocalExecutor;
  beforeAll(async () => {
    executor = await LocalExecutor.create('off', stateDir);
  });
  afterAll(async () => {
    await executor.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  executorContract(() => ({ executor }));
});
