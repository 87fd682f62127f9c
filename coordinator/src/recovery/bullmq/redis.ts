import { Redis, type RedisOptions } from 'ioredis';

/** ioredis options from a `redis://[user:pass@]host:port[/db]` (or `rediss://`) URL; BullMQ opens and closes the connections itself. */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // reconnect forever, at most every 2 s: a worker rides out a Redis outage
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

/** One PING with no retries, so a worker can refuse to start on an unreachable Redis. */
export async function probeRedis(url: string, timeoutMs = 5000): Promise<void> {
  const r = new Redis({ ...redisOptionsFromUrl(url), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
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
