// The `drain` scenario: how fast recovery catches up after a participant outage.
// While the no-op participants answer every confirm with 503, a coordinator that
// runs no recovery of its own (DTX_REDIS_URL set, no worker on its queue) decides
// `count` driven transactions: each is left `committing` after one failed confirm
// round, due again a second later. Then the participants heal, the coordinator
// stops, and recovery starts on that backlog: once a `dtx serve` with no Redis and
// default settings (the in-process sweeper), once two `dtx worker`s. Timed from
// recovery's process(es) ready to the last transaction committed, by polling the log.
import { randomBytes } from 'node:crypto';
import { actionRef, branchOf } from '@dtx/participant-sdk';
import { dropKeys, redisCommand } from '../test/support/redis-commands.js';
import knexFactory from 'knex';
import { Pool, request } from 'undici';
import type { DrainResult } from './drain-summary.js';
import { cpuSecondsOf, startProcess, type Child } from './processes.js';
import { withDatabase, type StoreAdmin, type StoreKind } from './store.js';

/** Each `dtx worker`'s --concurrency: the figure the performance issue measured workers at. */
export const DRAIN_WORKER_CONCURRENCY = 64;
const SEED_LANES = 64;
const DRAIN_TIMEOUT_MS = 300_000;

export interface DrainConfig {
  admin: StoreAdmin;
  store: StoreKind;
  /** The bench's log URL; the drain runs on a database of its own next to it. */
  databaseUrl: string;
  dbName: string;
  /** The no-op participants (bench/noop-participant.ts). */
  participants: string[];
  count: number;
  redisUrl: string;
  keepDb: boolean;
  log(s: string): void;
}


/** Null, with a line saying so, when Redis does not answer: the backlog and the workers need it. */
export async function runDrain(c: DrainConfig): Promise<DrainResult | null> {
  const dbUrl = withDatabase(c.databaseUrl, c.dbName);
  const prefix = `dtxbench_drain_${randomBytes(4).toString('hex')}`;
  const noRedis = await probeRedis(c.redisUrl);
  if (noRedis) {
    c.log(`  drain      skipped: ${noRedis}`);
    return null;
  }
  try {
    await seedBacklog(c, dbUrl, prefix);
    const sweeper = await timeDrain(c, dbUrl, async () => [
      await startProcess('drain sweeper', ['--import', 'tsx', 'coordinator/src/cli/main.ts', 'serve'], { DTX_DATABASE_URL: dbUrl, DTX_HOST: '127.0.0.1', DTX_PORT: '0' }, /listening on (http:\/\/\S+)/),
    ]);
    c.log(`  drain      in-process sweeper: ${c.count} committed in ${(sweeper.ms / 1000).toFixed(1)} s`);

    await seedBacklog(c, dbUrl, prefix);
    const workerEnv = { DTX_DATABASE_URL: dbUrl, DTX_REDIS_URL: c.redisUrl, DTX_QUEUE_PREFIX: prefix };
    const workerArgs = ['--import', 'tsx', 'coordinator/src/cli/main.ts', 'worker', '--concurrency', String(DRAIN_WORKER_CONCURRENCY)];
    const workers = await timeDrain(c, dbUrl, () => Promise.all(['drain worker 1', 'drain worker 2'].map((name) => startProcess(name, workerArgs, workerEnv, /(dtx worker ready)/))));
    c.log(`  drain      2 workers (concurrency ${DRAIN_WORKER_CONCURRENCY}): ${c.count} committed in ${(workers.ms / 1000).toFixed(1)} s`);
    return { count: c.count, sweeper, workers, workerConcurrency: DRAIN_WORKER_CONCURRENCY };
  } finally {
    await setConfirms(c.participants, 'ok').catch(() => {});
    await dropKeys(c.redisUrl, prefix).catch(() => {});
    if (!c.keepDb) await c.admin.drop(c.dbName).catch(() => {});
  }
}

/** A fresh drain database holding `count` decided transactions whose confirms failed; the participants healed at the end. */
async function seedBacklog(c: DrainConfig, dbUrl: string, prefix: string): Promise<void> {
  await c.admin.recreate(c.dbName);
  const t0 = Date.now();
  // with DTX_REDIS_URL the coordinator runs no sweeper, and no worker takes its queue: nothing recovers yet
  const seeder = await startProcess(
    'drain seeder',
    ['--import', 'tsx', 'coordinator/src/cli/main.ts', 'serve'],
    { DTX_DATABASE_URL: dbUrl, DTX_HOST: '127.0.0.1', DTX_PORT: '0', DTX_REDIS_URL: c.redisUrl, DTX_QUEUE_PREFIX: prefix, DTX_LOG_LEVEL: 'error' },
    /listening on (http:\/\/\S+)/,
  );
  const pool = new Pool(seeder.ready, { connections: SEED_LANES, pipelining: 1 });
  try {
    await setConfirms(c.participants, 'fail');
    const [p1, p2] = c.participants;
    const body = JSON.stringify({ drive: true, branches: [branchOf(actionRef(p1!, 'bench.a'), 'a', { amount: 1 }), branchOf(actionRef(p2!, 'bench.b'), 'b', { amount: 1 })] });
    let next = 0;
    const lane = async () => {
      while (next < c.count) {
        next++;
        const res = await pool.request({ path: '/v1/transactions', method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const answer = JSON.parse(await res.body.text()) as { status?: string };
        if (res.statusCode !== 201 || answer.status !== 'committing') throw new Error(`drain: seeding a transaction gave HTTP ${res.statusCode} ${JSON.stringify(answer).slice(0, 300)}, expected 201 committing`);
      }
    };
    await Promise.all(Array.from({ length: SEED_LANES }, lane));
  } finally {
    await pool.close();
    await seeder.stop();
  }
  await setConfirms(c.participants, 'ok');
  c.log(`  drain      backlog: ${c.count} transactions decided while confirms failed, in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** One recovery run on a backlog: ms from its process(es) ready to the last commit, and the CPU they used meanwhile. */
export interface DrainTiming {
  ms: number;
  /** CPU seconds (user + system) of the recovery process(es) from ready to done. */
  cpuS: number | null;
}

/** Starts recovery, then polls the log until every transaction is committed. */
async function timeDrain(c: DrainConfig, dbUrl: string, startRecovery: () => Promise<Child[]>): Promise<DrainTiming> {
  const db = knexFactory({ client: c.store === 'mysql' ? 'mysql2' : 'pg', connection: dbUrl, pool: { min: 0, max: 1 } });
  const procs = await startRecovery();
  const cpu = async () => {
    const each = await Promise.all(procs.map((p) => cpuSecondsOf(p.proc.pid!)));
    return each.some((x) => x === null) ? null : each.reduce<number>((a, b) => a + b!, 0);
  };
  const cpu0 = await cpu();
  const t0 = Date.now();
  try {
    for (;;) {
      const rows: { status: string; n: number | string }[] = await db('dtx_global_tx').select('status').count({ n: '*' }).groupBy('status');
      const left = rows.filter((r) => r.status !== 'committed').reduce((a, r) => a + Number(r.n), 0);
      const committed = Number(rows.find((r) => r.status === 'committed')?.n ?? 0);
      if (left === 0 && committed === c.count) {
        const ms = Date.now() - t0;
        const cpu1 = await cpu();
        return { ms, cpuS: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0 };
      }
      if (rows.some((r) => r.status !== 'committed' && r.status !== 'committing')) throw new Error(`drain: the log has ${JSON.stringify(rows)}; every transaction should end committed`);
      if (Date.now() - t0 > DRAIN_TIMEOUT_MS) throw new Error(`drain: ${left} of ${c.count} not committed after ${DRAIN_TIMEOUT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await db.destroy();
  }
}

async function setConfirms(participants: string[], confirms: 'fail' | 'ok'): Promise<void> {
  for (const p of participants) {
    const res = await request(`${p}/control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ confirms }) });
    await res.body.text();
    if (res.statusCode !== 204) throw new Error(`drain: ${p}/control answered HTTP ${res.statusCode}`);
  }
}

/** Why Redis cannot be used, or null when it answers. */
async function probeRedis(url: string): Promise<string | null> {
  try {
    await redisCommand(url, 'PING');
    return null;
  } catch (err) {
    return `needs Redis at ${url} (DTX_BENCH_REDIS_URL): ${err instanceof Error ? err.message : String(err)}`;
  }
}
