import { defineConfig } from 'vitest/config';

// Tests run in forked processes: several suites start sandboxes, servers and worker threads,
// and a crash in one must not take the others down.
// Test files run side by side, so every run a test makes shares the machine with other tests: measured as
// contention, it would never count. The lab's contention limit is off in the tests (SUCCESSOR_CONTENTION_LIMIT);
// the tests of contention itself set it explicitly.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    env: { SUCCESSOR_CONTENTION_LIMIT: 'off' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
