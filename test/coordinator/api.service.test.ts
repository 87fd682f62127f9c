import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { storeKinds } from '../support/services.js';
import { expectError, openStore, startCoordinator, xid, type Running } from './api.fixture.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** `/healthz`, `/readyz`, `/metrics`, `/docs`, unknown routes and 503 STORE_UNAVAILABLE. */
describe.each(stores)('service endpoints on %s', (kind) => {
  let r: Running;
  let p: TestParticipant;
  beforeAll(async () => {
    r = await startCoordinator({ kind, label: 'api_svc' });
    p = await startParticipant();
  });
  afterAll(async () => {
    await r.close();
    await p.close();
  });

  test('/healthz and /readyz answer 200', async () => {
    const h = await api(r.url, 'GET', '/healthz');
    expect(h.status).toBe(200);
    expect(h.body).toEqual({ status: 'ok' });
    const ready = await api(r.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
  });

  test('/metrics is Prometheus text with the coordinator counters', async () => {
    const res = await api(r.url, 'POST', '/v1/transactions', { drive: true, branches: [{ branchId: 'a', ...p.urls('w') }] });
    expect(res.body.status).toBe('committed');
    const m = await api(r.url, 'GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain/);
    const text = m.body as string;
    expect(text).toMatch(/^# HELP dtx_decisions_total /m);
    expect(text).toMatch(/^# TYPE dtx_decisions_total counter$/m);
    expect(text).toMatch(/^dtx_decisions_total\{decision="commit",reason="requested",mode="tcc"\} [1-9]\d*$/m);
    expect(text).toMatch(/^dtx_transactions_finished_total\{status="committed"\} [1-9]\d*$/m);
    expect(text).toMatch(/^dtx_phase2_calls_total\{phase="confirm",outcome="ok"\} [1-9]\d*$/m);
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+$/);
  });

  test('/docs is the OpenAPI document of the v1 API', async () => {
    const d = await api(r.url, 'GET', '/docs');
    expect(d.status).toBe(200);
    expect(d.headers['content-type']).toMatch(/^application\/json/);
    expect(d.body.openapi).toMatch(/^3\./);
    const paths = Object.keys(d.body.paths);
    for (const path of [
      '/v1/transactions',
      '/v1/transactions/{xid}',
      '/v1/transactions/{xid}/branches',
      '/v1/transactions/{xid}/branches/{branchId}/try-result',
      '/v1/transactions/{xid}/commit',
      '/v1/transactions/{xid}/rollback',
      '/v1/transactions/{xid}/retry',
    ]) {
      expect(paths).toContain(path);
    }
    expect(Object.keys(d.body.paths['/v1/transactions']).sort()).toEqual(['get', 'post']);
  });

});

describe.each(stores)('a store that cannot be written on %s', (kind) => {
  let r: Running;
  beforeAll(async () => {
    r = await startCoordinator({ kind, label: 'api_down', recovery: false });
  });
  afterAll(async () => {
    await r.close();
  });

  test('writes and reads answer 503 STORE_UNAVAILABLE with Retry-After, and a fixed message (the database error stays in the log)', async () => {
    const x = xid('down');
    expect((await api(r.url, 'POST', '/v1/transactions', { xid: x })).status).toBe(201);
    const store = openStore(r.db);
    try {
      await store.schema.dropTable('dtx_branch');
      await store.schema.dropTable('dtx_global_tx');
    } finally {
      await store.destroy();
    }
    for (const res of [
      await api(r.url, 'POST', '/v1/transactions', { xid: xid('down') }),
      await api(r.url, 'POST', `/v1/transactions/${x}/rollback`, {}),
      await api(r.url, 'GET', `/v1/transactions/${x}`),
      await api(r.url, 'GET', '/v1/transactions'),
    ]) {
      expectError(res, 503, 'STORE_UNAVAILABLE');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.body.error.message).toBe('the transaction log cannot be written; retry after Retry-After');
    }
    expect((await api(r.url, 'GET', '/healthz')).status).toBe(200);
  });
});
