import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { StoreKind } from './store.js';

export const ALL = ['bare', 'relay', 'driven', 'driven-2c', 'galera', 'galera-direct', 'galera-2c', 'galera-2nodes', 'initiator', 'saga', 'msg', 'bank-bare', 'bank', 'bank-xa', 'bank-fmt', 'drain'] as const;
export type ScenarioName = (typeof ALL)[number];
/** The scenario each DTX figure is a ratio to. */
export const BASELINE: Partial<Record<ScenarioName, ScenarioName>> = {
  relay: 'bare', driven: 'bare', 'driven-2c': 'driven', galera: 'driven', 'galera-direct': 'galera', 'galera-2c': 'galera', 'galera-2nodes': 'galera-2c', initiator: 'bare', saga: 'driven', msg: 'driven', bank: 'bank-bare', 'bank-xa': 'bank-bare', 'bank-fmt': 'bank' };
export const NEEDS_COORDINATOR = new Set<ScenarioName>(['driven', 'driven-2c', 'galera', 'galera-direct', 'galera-2c', 'galera-2nodes', 'initiator', 'saga', 'msg', 'bank', 'bank-xa', 'bank-fmt']);
export const BANK_ACCOUNTS = 1000;
/** The bank scenarios' wallets (examples/bank) and their money check run on MySQL, and the Galera scenarios beside the single MariaDB. */
const MYSQL_ONLY = new Set<ScenarioName>(['bank-bare', 'bank', 'bank-fmt', 'galera', 'galera-direct', 'galera-2c', 'galera-2nodes']);
/**
 * Scenarios with coordinators of their own, started for them alone by bench/topology.ts (the
 * others share the run's one): a second one on the same log, or a Galera cluster's. They run
 * only when named in --scenario.
 */
export const OWN_TOPOLOGY = new Set<ScenarioName>(['driven-2c', 'galera', 'galera-direct', 'galera-2c', 'galera-2nodes']);
/** The embedded log runs the scenarios whose only database is the coordinator's log. */
const SQLITE_SCENARIOS = new Set<ScenarioName>(['bare', 'relay', 'driven', 'initiator', 'saga', 'msg']);
const DEFAULT_URL: Record<StoreKind, string> = {
  mysql: 'mysql://root@127.0.0.1:3306/dtx_bench',
  postgres: 'postgres://postgres@127.0.0.1:5432/dtx_bench',
  sqlite: `sqlite:${join(tmpdir(), 'dtx-bench', 'dtx_bench.db')}`,
};
const URL_VARIABLE: Record<StoreKind, string> = { mysql: 'DTX_BENCH_DATABASE_URL', postgres: 'DTX_BENCH_POSTGRES_URL', sqlite: 'DTX_BENCH_SQLITE_URL' };

export interface Options {
  durationS: number;
  warmupS: number;
  concurrency: number;
  scenarios: ScenarioName[];
  preload: number;
  rounds: number;
  profile: boolean;
  keepDb: boolean;
  /** The coordinator log's server. @default 'mysql' */
  store: StoreKind;
  databaseUrl: string;
  /** drain: decided transactions in the backlog. @default 5000 */
  drainCount: number;
  /** drain: the workers' Redis. */
  redisUrl: string;
}

/** The command line, checked; `--help` prints the usage and exits. */
export function options(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '64' },
      scenario: { type: 'string' },
      preload: { type: 'string', default: '0' },
      rounds: { type: 'string', default: '1' },
      profile: { type: 'boolean', default: false },
      'keep-db': { type: 'boolean', default: false },
      store: { type: 'string', default: 'mysql' },
      'drain-count': { type: 'string', default: '5000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: npm run bench -- [--duration S=15] [--warmup S=3] [--concurrency N=64] [--scenario ${ALL.join(',')}]
                        [--preload N] [--rounds N=1] [--profile] [--keep-db] [--store mysql|postgres|sqlite] [--drain-count N=5000]
  --drain-count            drain: decided transactions in the backlog recovery catches up on (round 1 only)
  --scenario driven-2c     driven with two coordinators on the same log, the load split between them
  --scenario galera,galera-direct,galera-2c,galera-2nodes
                           driven with the log on a 3-node MariaDB Galera cluster the bench starts (galera-4,
                           HAProxy): one coordinator through HAProxy, one straight to a node, two through
                           HAProxy, two each straight to a node of its own (multi-primary)
  DTX_BENCH_REDIS_URL      drain: Redis for the workers (default redis://127.0.0.1:6379)
  --store                  the coordinator log's server (default mysql); bank-bare and bank need mysql;
                           sqlite (the embedded log) runs bare, relay, driven, initiator, saga and msg
  DTX_BENCH_DATABASE_URL   MySQL for the log and the wallets (default ${DEFAULT_URL.mysql})
  DTX_BENCH_POSTGRES_URL   PostgreSQL for the log with --store postgres (default ${DEFAULT_URL.postgres})
  DTX_BENCH_SQLITE_URL     the log's file with --store sqlite (default ${DEFAULT_URL.sqlite})`);
    process.exit(0);
  }
  const num = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number ${min}–${max}, got ${v}`);
    return n;
  };
  const store = values.store as StoreKind;
  if (!Object.hasOwn(DEFAULT_URL, store)) throw new Error(`--store must be mysql, postgres or sqlite, got ${values.store}`);
  const runsOn = (s: ScenarioName) => (store === 'sqlite' ? SQLITE_SCENARIOS.has(s) : store === 'mysql' || !MYSQL_ONLY.has(s));
  const asked = values.scenario ? values.scenario.split(',').map((s) => s.trim()) : ALL.filter((s) => runsOn(s) && !OWN_TOPOLOGY.has(s));
  for (const s of asked) if (!ALL.includes(s as ScenarioName)) throw new Error(`unknown scenario "${s}"; known: ${ALL.join(', ')}`);
  for (const s of asked) if (!runsOn(s as ScenarioName)) throw new Error(`scenario ${s} does not run with --store ${store}${MYSQL_ONLY.has(s as ScenarioName) ? ': its wallets are on MySQL, use --store mysql' : ''}`);
  if (store === 'sqlite' && values.preload !== '0') throw new Error('--preload fills a MySQL or PostgreSQL log: use --store mysql or postgres');
  // Every DTX figure is a ratio to its baseline measured in the same run (LESSONS.md: DTM #484).
  const wanted = new Set(asked as ScenarioName[]);
  for (let s of [...wanted]) while (BASELINE[s]) wanted.add((s = BASELINE[s]!)); // galera → driven → bare
  return {
    durationS: num('duration', values.duration!, 1, 3600),
    warmupS: num('warmup', values.warmup!, 0, 600),
    concurrency: Math.floor(num('concurrency', values.concurrency!, 1, 4096)),
    scenarios: ALL.filter((s) => wanted.has(s)),
    preload: Math.floor(num('preload', values.preload!, 0, 100_000_000)),
    rounds: Math.floor(num('rounds', values.rounds!, 1, 20)),
    profile: values.profile!,
    keepDb: values['keep-db']!,
    store,
    databaseUrl: process.env[URL_VARIABLE[store]] ?? DEFAULT_URL[store],
    drainCount: Math.floor(num('drain-count', values['drain-count']!, 1, 1_000_000)),
    redisUrl: process.env.DTX_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}
