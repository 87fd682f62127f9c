import knexFactory from 'knex';
import { GaleraCluster } from '../test/support/galera.js';
import { RedisCluster } from '../test/support/redis-cluster.js';
import type { Topology } from './topology.js';

const DOWN_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/**
 * `--cluster`: the log and wallet A on a three-node Galera cluster reached through HAProxy
 * (`balance first`, each node checked by GaleraSyncedCheck, so clients go only to a Synced
 * node), the queue on a Redis Cluster of three masters and three replicas. A killed Galera
 * node comes back by IST (its position recovered with `--wsrep-recover`), so no donor is
 * blocked by a full copy; faults run one at a time, so two nodes of three always keep quorum.
 */
export async function startClusteredTopology(): Promise<Topology> {
  const galera = await GaleraCluster.start({ haproxy: true, syncedCheck: true });
  if (!galera) throw new Error('--cluster needs galera-4, mariadbd and haproxy installed');
  let redis: RedisCluster;
  try {
    redis = await RedisCluster.start();
    const admin = knexFactory({ client: 'mysql2', connection: galera.proxyUrl(''), pool: { min: 0, max: 1 } });
    try {
      await admin.raw('CREATE DATABASE IF NOT EXISTS wallet_a');
    } finally {
      await admin.destroy();
    }
  } catch (err) {
    await galera.remove();
    throw err;
  }
  const nodes = galera.nodes.map((n) => n.index);
  const rejoins = { ist: 0, sst: 0, ms: [] as number[] };
  const rejoin = async () => {
    for (const i of nodes) {
      if (galera.alive(i)) continue;
      const started = Date.now();
      const how = await galera.restart(i, { incremental: true });
      if (how) rejoins[how]++;
      rejoins.ms.push(Date.now() - started);
    }
  };
  return {
    describe: `Galera ${galera.nodes.map((n) => n.ports.sql).join(',')} behind HAProxy on ${galera.proxyPort}, Redis Cluster ${redis.ports.join(',')}`,
    logUrl: galera.proxyUrl('dtx'),
    walletAUrl: galera.proxyUrl('wallet_a'),
    redisUrl: redis.url(),
    // BullMQ on a cluster: every key of a queue in one slot
    queuePrefix: '{soak}',
    faults: {
      'kill-galera-node': {
        kind: 'failover',
        down: () => galera.kill(pick(nodes)),
        up: rejoin,
      },
      'kill-haproxy': { kind: 'outage', down: () => galera.stopProxy(), up: () => galera.startProxy() },
      'kill-redis-master': {
        kind: 'action',
        run: async () => {
          const port = pick(redis.masters());
          await redis.failOver(port);
          await sleep(DOWN_MS);
          await redis.restart(port);
          await redis.replicating(port);
        },
      },
      'kill-redis-replica': {
        kind: 'action',
        run: async () => {
          const port = pick(redis.replicas());
          await redis.kill(port);
          await sleep(DOWN_MS);
          await redis.restart(port);
          await redis.replicating(port);
        },
      },
      flushall: { kind: 'action', run: async () => redis.flushAll() },
    },
    heal: async () => {
      await rejoin();
      await galera.startProxy();
      for (const port of redis.ports) if (!redis.alive(port)) await redis.restart(port);
      await redis.settled();
    },
    notes: () => {
      const ms = [...rejoins.ms].sort((a, b) => a - b);
      const s = (v: number | undefined) => ((v ?? 0) / 1000).toFixed(1);
      return [`Galera nodes restarted: ${ms.length}, by IST ${rejoins.ist}, by SST ${rejoins.sst}; restart to Synced: median ${s(ms[Math.floor(ms.length / 2)])} s, longest ${s(ms.at(-1))} s`];
    },
    crashes: () => [...galera.crashes, ...redis.crashes],
    close: async () => {
      await galera.remove();
      await redis.remove();
    },
    removeNow: () => {
      galera.removeNow();
      redis.removeNow();
    },
  };
}
