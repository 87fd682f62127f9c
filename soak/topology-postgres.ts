import knexFactory from 'knex';
import { bounce } from './child.js';
import { privatePostgres, privateRedis } from './services.js';
import type { Topology } from './topology.js';

/** The log and wallet A on a PostgreSQL of the soak's own, the queue on its own Redis: `--store postgres`. */
export async function startPostgresTopology(dir: string): Promise<Topology> {
  const pg = await privatePostgres(dir);
  await pg.child.start(120_000);
  const redis = await privateRedis();
  await redis.child.start();
  const admin = knexFactory({ client: 'pg', connection: pg.url('postgres'), pool: { min: 0, max: 1 } });
  try {
    await admin.raw('CREATE DATABASE wallet_a');
  } finally {
    await admin.destroy();
  }
  const children = [pg.child, redis.child];
  return {
    describe: `PostgreSQL on ${pg.port}, Redis on ${redis.port}`,
    logUrl: pg.url('dtx'),
    walletAUrl: pg.url('wallet_a'),
    redisUrl: redis.url,
    queuePrefix: 'soak',
    faults: {
      // the postmaster and every backend at once: a crash, recovered from the WAL at the next start
      'kill-postgres': { kind: 'outage', down: () => pg.child.kill(), up: () => pg.child.start(120_000) },
      // SIGSTOP of every process of the server: connections stay open and nothing answers
      'freeze-postgres': { kind: 'outage', down: async () => pg.child.signal('SIGSTOP'), up: async () => pg.child.signal('SIGCONT') },
      'kill-redis': { kind: 'action', run: () => bounce(redis.child, 1500) },
      flushall: { kind: 'action', run: redis.flushAll },
    },
    heal: async () => {
      pg.child.signal('SIGCONT');
      for (const child of children) if (!child.alive) await child.start(120_000);
    },
    crashes: () => children.flatMap((c) => c.crashes),
    close: async () => {},
    removeNow: () => children.forEach((c) => c.killNow()),
  };
}
