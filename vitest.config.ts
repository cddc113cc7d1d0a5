import { defineConfig } from 'vitest/config';

// One run for `npm test`: unit tests and in-process/loopback integration tests beside the code,
// plus real-process end-to-end tests in test/e2e. Suites that need PostgreSQL/Redis skip
// themselves (and say so) unless DATABASE_URL / REDIS_URL are set; `.ci/run` sets them.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts', 'web/src/**/*.test.ts'],
    exclude: ['test/browser/**', 'node_modules/**', 'dist/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
