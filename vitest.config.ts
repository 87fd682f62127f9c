import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const inCi = process.env.CI === 'true' || process.env.CI === '1';
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Suites that time things tightly, share a server-wide resource (a database's global
 * state, Redis's keyspace under the workers, a private cluster, the browser, an npm
 * install) or fault a database: one file at a time, after every other suite has run two
 * files at a time (the others wait on processes and sockets far more than they compute,
 * and each has its own database, prefix and ports).
 */
const ONE_AT_A_TIME = [
  'test/coordinator/{store,log,races,recovery,lifecycle}.*.test.ts',
  'test/coordinator/{api.driven*,api.commit-try-results,trace.*}.test.ts',
  'test/workers/**/*.test.ts',
  'test/cluster/**/*.test.ts',
  'test/packaging/**/*.test.ts',
  'test/ui/**/*.test.ts',
  'test/sdk/e2e.concurrent-transfers-conserve-money.test.ts',
  'test/sdk/e2e.xa-and-tcc-transfers.test.ts',
];

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
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    reporters: inCi ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
    projects: [
      { extends: true, test: { name: 'two-at-a-time', include: ['test/**/*.test.ts'], exclude: ONE_AT_A_TIME, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'one-at-a-time', include: ONE_AT_A_TIME, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
