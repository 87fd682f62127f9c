import type { ConnectionOptions } from 'bullmq';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/**
 * What DTX_REDIS_URL names: one server, `redis://[user:pass@]host:port[/db]` (`rediss://` for
 * TLS), or a Redis Cluster, `redis+cluster://[user:pass@]host:port,host:port,…`
 * (`rediss+cluster://`): seeds, any nodes of the cluster (one is enough, more survive one
 * being down at start); the client discovers the others and follows failovers. A cluster has
 * no databases, so it takes no `/db`.
 */
export type RedisTarget = { cluster: false; options: RedisOptions } | { cluster: true; seeds: { host: string; port: number }[]; options: RedisOptions };

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/;

/** True for a `redis+cluster://` or `rediss+cluster://` URL. */
export const isClusterUrl = (url: string) => /^rediss?\+cluster:/.test(url);

/** Reconnect forever, at most every 2 s: a worker rides out a Redis outage or a failover. */
const retryStrategy = (times: number) => Math.min(200 * times, 2000);

/** The target a DTX_REDIS_URL names (see RedisTarget); throws on a malformed one. */
export function redisTargetFromUrl(url: string): RedisTarget {
  const m = CLUSTER_URL.exec(url);
  if (!m && isClusterUrl(url)) throw new Error(`malformed Redis Cluster URL: ${url}`);
  if (m) {
    const [, scheme, userinfo, hosts] = m;
    const seeds = hosts!.split(',').map((hostPort) => {
      const at = hostPort.lastIndexOf(':');
      const port = at > 0 ? Number(hostPort.slice(at + 1)) : 6379;
      const host = (at > 0 ? hostPort.slice(0, at) : hostPort).replace(/^\[|\]$/g, '');
      if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`malformed Redis Cluster seed "${hostPort}" in ${url}`);
      return { host, port };
    });
    return { cluster: true, seeds, options: { ...credentials(userinfo), ...(scheme === 'rediss' ? { tls: {} } : {}), retryStrategy } };
  }
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    cluster: false,
    options: {
      host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
      port: u.port ? Number(u.port) : 6379,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(Number.isInteger(db) && db > 0 ? { db } : {}),
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
      retryStrategy,
    },
  };
}

function credentials(userinfo: string | undefined): RedisOptions {
  if (!userinfo) return {};
  const colon = userinfo.indexOf(':');
  const user = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? undefined : decodeURIComponent(userinfo.slice(colon + 1));
  return { ...(user ? { username: user } : {}), ...(password ? { password } : {}) };
}

function clusterClient(target: Extract<RedisTarget, { cluster: true }>, extra: ClusterOptions = {}): Cluster {
  const { retryStrategy: _perNode, ...redisOptions } = target.options;
  return new Cluster(target.seeds, {
    // BullMQ's workers block on their connection and need it to wait, not fail, while a master fails over
    redisOptions: { ...redisOptions, maxRetriesPerRequest: null },
    clusterRetryStrategy: retryStrategy,
    ...extra,
  });
}

/**
 * A connection for one BullMQ Queue or Worker, and its release. BullMQ opens and closes a
 * server's connections itself from options, but takes a cluster only as a client, which it
 * shares and never closes: `release` closes that client once its queue or worker is closed.
 */
export function bullmqConnection(target: RedisTarget): { connection: ConnectionOptions; release(): Promise<void> } {
  if (!target.cluster) return { connection: target.options, release: async () => {} };
  const client = clusterClient(target);
  return {
    connection: client,
    release: async () => {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/** One PING with no retries, so a worker can refuse to start on an unreachable Redis. */
export async function probeRedis(url: string, timeoutMs = 5000): Promise<void> {
  const target = redisTargetFromUrl(url);
  const once = { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false };
  const r = target.cluster
    ? clusterClient(target, { lazyConnect: true, clusterRetryStrategy: () => null, enableOfflineQueue: false, redisOptions: { ...target.options, ...once } })
    : new Redis({ ...target.options, ...once });
  let cause: unknown;
  r.on('error', (err) => (cause ??= err)); // connect() rejects with a vaguer "Connection is closed."
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    throw cause ?? err;
  } finally {
    r.disconnect();
  }
}
