import knexFactory from 'knex';
import { bounce } from './child.js';
import { privateMariadb, privateRedis } from './services.js';
import type { Topology } from './topology.js';

/** One MariaDB (the log and wallet A) and one Redis, both the soak's own: the default topology. */
export async function startMariadbTopology(dir: string): Promise<Topology> {
  const db = await privateMariadb(dir);
  await db.child.start(120_000);
  const redis = await privateRedis();
  await redis.child.start();
  const admin = knexFactory({ client: 'mysql2', connection: db.url(''), pool: { min: 0, max: 1 } });
  try {
    await admin.raw('CREATE DATABASE IF NOT EXISTS wallet_a');
  } finally {
    await admin.destroy();
  }
  const children = [db.child, redis.child];
  return {
    describe: `MariaDB on ${db.port}, Redis on ${redis.port}`,
    logUrl: db.url('dtx'),
    walletAUrl: db.url('wallet_a'),
    redisUrl: redis.url,
    queuePrefix: 'soak',
    faults: {
      'kill-mariadb': { kind: 'outage', down: () => db.child.kill(), up: () => db.child.start(120_000) },
      // SIGSTOP: the server keeps its connections open and answers nothing
      'freeze-mariadb': { kind: 'outage', down: async () => db.child.signal('SIGSTOP'), up: async () => db.child.signal('SIGCONT') },
      'kill-redis': { kind: 'action', run: () => bounce(redis.child, 1500) },
      flushall: { kind: 'action', run: redis.flushAll },
    },
    heal: async () => {
      db.child.signal('SIGCONT');
      for (const child of children) if (!child.alive) await child.start(120_000);
    },
    crashes: () => children.flatMap((c) => c.crashes),
    close: async () => {},
    removeNow: () => children.forEach((c) => c.killNow()),
  };
}

