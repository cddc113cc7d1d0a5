import { defineConfig } from 'vitest/config';

// The suites that need PostgreSQL and Redis (run by `.ci/run` with DATABASE_URL and REDIS_URL).
export default defineConfig({
  test: {
    include: ['src/**/*.services.test.ts', 'test/**/*.services.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
