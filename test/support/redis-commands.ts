import { Redis } from 'ioredis';

/** A connection that gives up at once instead of retrying: these helpers run against servers that may be down. */
async function withRedis<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** One Redis command on its own connection, e.g. `redisCommand(url, 'FLUSHALL')`. */
export function redisCommand(url: string, command: string, ...args: string[]): Promise<unknown> {
  return withRedis(url, (r) => r.call(command, ...args));
}

/** Deletes every key under `prefix:` (a BullMQ queue prefix), SCANning so a big Redis is not blocked. */
export function dropKeys(url: string, prefix: string): Promise<void> {
  return withRedis(url, async (r) => {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  });
}
