import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const inCi = process.env.CI === 'true' || process.env.CI === '1';
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Suites that only answer requests of their own (each in its own database, with its own
 * participants) and time nothing: they run two files at a time. Everything else (crashes,
 * races, recovery intervals, workers, faults, processes, the browser) runs one file at a
 * time after them, as before: their timings hold on a loaded 2-core machine only alone.
 */
const CONCURRENT = [
  'test/unit/**/*.test.ts',
  'test/coordinator/api.*.test.ts',
  'test/coordinator/{saga,msg}.conformance.test.ts',
  'test/sdk/{client,decorators,plugin,saga-msg}.*.test.ts',
  'test/sdk/adapters.callback-matrix.test.ts',
  'test/sdk/fmt.{statement-table,type-round-trips,statements-per-phase}.test.ts',
  'test/sdk/barrier.{statements-per-phase,impossible-sequences-refused,duplicates-apply-once,cancel-before-try,repeated-try-returns-result,failed-try-cancels-nothing}.test.ts',
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
      { extends: true, test: { name: 'concurrent', include: CONCURRENT, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'one-at-a-time', include: ['test/**/*.test.ts'], exclude: CONCURRENT, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
