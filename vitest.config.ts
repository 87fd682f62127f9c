import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const inCi = process.env.CI === 'true' || process.env.CI === '1';
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // the packages' sources, as tsconfig.json's paths have it (installed, they resolve to dist/)
  resolve: {
    alias: {
      '@dtx/protocol': source('./protocol/src/index.ts'),
      '@dtx/participant-sdk/node': source('./participant-sdk/src/adapters/node-http.ts'),
      '@dtx/participant-sdk/express': source('./participant-sdk/src/adapters/express.ts'),
      '@dtx/participant-sdk/koa': source('./participant-sdk/src/adapters/koa.ts'),
      '@dtx/participant-sdk/nest': source('./participant-sdk/src/adapters/nest.ts'),
      '@dtx/participant-sdk': source('./participant-sdk/src/index.ts'),
      '@dtx/coordinator': source('./coordinator/src/index.ts'),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    reporters: inCi ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
});
