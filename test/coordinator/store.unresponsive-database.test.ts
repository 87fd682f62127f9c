import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCoordinator, type Coordinator } from '../../coordinator/src/index.js';
import { FaultProxy } from '../../soak/fault-proxy.js';
import { eventually } from '../support/http.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';

/** An answer must come this soon even when the database never answers. */
const BOUND_MS = 8000;

const kinds = (await storeKinds(['mysql'])).filter((k) => k === 'mysql');

describe.each(kinds)('a log database that stops answering (%s behind a proxy that swallows everything)', () => {
  let db: FreshDatabase;
  let proxy: FaultProxy;
  let c: Coordinator;

  beforeAll(async () => {
    db = await freshDatabase('mysql', 'frozen');
    const target = new URL(db.url);
    proxy = new FaultProxy({ host: target.hostname, port: Number(target.port || 3306) });
    await proxy.start();
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    c = createCoordinator({ databaseUrl: viaProxy.toString(), port: 0, host: '127.0.0.1' });
    await c.start();
  }, 60_000);

  afterAll(async () => {
    proxy?.set({ kind: 'pass' });
    await c?.close({ timeoutMs: 2000 });
    await proxy?.close();
    await db?.drop();
  });

  const call = async (method: 'GET' | 'POST', path: string, body?: object) => {
    const started = performance.now();
    const res = await request(`${c.url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      headersTimeout: 3 * BOUND_MS,
    });
    const json = (await res.body.json()) as { error?: { code: string } };
    return { status: res.statusCode, code: json.error?.code, retryAfter: res.headers['retry-after'], ms: performance.now() - started };
  };

  it('answers writes and reads 503 STORE_UNAVAILABLE with Retry-After in bounded time, and takes writes again once it answers', async () => {
    expect((await call('POST', '/v1/transactions', {})).status).toBe(201);
    proxy.set({ kind: 'hang' });
    const answers = [await call('POST', '/v1/transactions', {}), ...(await Promise.all(Array.from({ length: 20 }, () => call('POST', '/v1/transactions', {}))))];
    answers.push(await call('GET', '/v1/transactions/no-such-xid'), await call('GET', '/readyz'));
    for (const a of answers) {
      expect(a).toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE', retryAfter: expect.any(String) });
      expect(a.ms).toBeLessThan(BOUND_MS);
    }
    proxy.set({ kind: 'pass' });
    await eventually(async () => (await call('POST', '/v1/transactions', {})).status === 201, 20_000, 200);
  }, 120_000);
});
