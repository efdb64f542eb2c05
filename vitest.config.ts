import { defineConfig } from 'vitest/config';

// Tests run in forked processes: several suites start sandboxes, servers and worker threads,
// and a crash in one must not take the others down.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
