import { defineConfig } from 'vitest/config';

// Dashboard tests in Debian's chromium driven by playwright-core (`npm run test:browser`).
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
