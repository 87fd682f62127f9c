import { defineConfig } from 'vitest/config';

const inCi = process.env.CI === 'true' || process.env.CI === '1';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    reporters: inCi ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
});
