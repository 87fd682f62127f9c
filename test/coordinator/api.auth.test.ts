import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { storeKinds } from '../support/services.js';
import { expectError, startCoordinator, xid, type Running } from './api.fixture.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** Bearer tokens (401 UNAUTHORIZED) and the participant URL allowlist (403 URL_NOT_ALLOWED). */
describe.each(stores)('auth and allowlist on %s', (kind) => {
  let r: Running;
  let p: TestParticipant;
  let outside: TestParticipant;
  let base: string;
  const auth = { authorization: 'Bearer s3cret-one' };
  beforeAll(async () => {
    [p, outside] = await Promise.all([startParticipant(), startParticipant()]);
    r = await startCoordinator({ kind, label: 'api_auth', apiTokens: ['s3cret-one', 's3cret-two'], allowedOrigins: [p.url] });
    base = r.url;
  });
  afterAll(async () => {
    await r.close();
    await Promise.all([p.close(), outside.close()]);
  });

  const get = (x: string) => api(base, 'GET', `/v1/transactions/${x}`, undefined, auth);

  test('every /v1 route needs a configured bearer token', async () => {
    const x = xid('auth');
    expect((await api(base, 'POST', '/v1/transactions', { xid: x }, auth)).status).toBe(201);
    const routes: [string, string, unknown?][] = [
      ['POST', '/v1/transactions', { xid: xid('no') }],
      ['GET', '/v1/transactions'],
      ['GET', `/v1/transactions/${x}`],
      ['POST', `/v1/transactions/${x}/branches`, { branchId: 'a', ...p.urls('w') }],
      ['POST', `/v1/transactions/${x}/branches/a/try-result`, { ok: true }],
      ['POST', `/v1/transactions/${x}/commit`, {}],
      ['POST', `/v1/transactions/${x}/rollback`, {}],
      ['POST', `/v1/transactions/${x}/retry`, {}],
      ['GET', '/v1/transactions/unknown-xid'],
      ['GET', '/%761/transactions'],
      ['GET', '/v1/nope'],
    ];
    const bad: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: 'Bearer s3cret-on' }, { authorization: 'Bearer ' }, { authorization: 's3cret-one' }, { authorization: 'Basic czNjcmV0LW9uZQ==' }];
    for (const [method, path, body] of routes) {
      for (const headers of bad) {
        const res = await api(base, method, path, body, headers);
        expectError(res, 401, 'UNAUTHORIZED');
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      }
    }
    // nothing the refused requests carried was written
    const t = await get(x);
    expect(t.body).toMatchObject({ status: 'trying', branches: [] });
    expect((await api(base, 'GET', '/v1/transactions', undefined, auth)).body.items.map((i: any) => i.xid)).toEqual([x]);
    // either configured token works, the scheme is case-insensitive
    expect((await api(base, 'GET', `/v1/transactions/${x}`, undefined, { authorization: 'Bearer s3cret-two' })).status).toBe(200);
    expect((await api(base, 'GET', `/v1/transactions/${x}`, undefined, { authorization: 'bearer s3cret-one' })).status).toBe(200);
    expect((await api(base, 'POST', `/v1/transactions/${x}/rollback`, { wait: true }, auth)).status).toBe(200);
  });

  test('service endpoints stay open', async () => {
    expect((await api(base, 'GET', '/healthz')).status).toBe(200);
    expect((await api(base, 'GET', '/readyz')).status).toBe(200);
    expect((await api(base, 'GET', '/metrics')).status).toBe(200);
    expect((await api(base, 'GET', '/docs')).status).toBe(200);
  });

  test('a participant URL outside the allowlist is 403 URL_NOT_ALLOWED and registers nothing', async () => {
    const x = xid('allow');
    expect((await api(base, 'POST', '/v1/transactions', { xid: x }, auth)).status).toBe(201);
    const foreign = [
      { branchId: 'o1', ...outside.urls('w') },
      { branchId: 'o2', ...p.urls('w'), confirmUrl: outside.urls('w').confirmUrl },
      { branchId: 'o3', ...p.urls('w'), cancelUrl: outside.urls('w').cancelUrl },
      { branchId: 'o4', ...p.urls('w'), tryUrl: outside.urls('w').tryUrl },
      { branchId: 'o5', ...p.urls('w'), confirmUrl: p.urls('w').confirmUrl.replace('127.0.0.1', 'localhost') },
      { branchId: 'o6', ...p.urls('w'), cancelUrl: p.urls('w').cancelUrl.replace('http:', 'https:') },
    ];
    for (const b of foreign) {
      const res = await api(base, 'POST', `/v1/transactions/${x}/branches`, b, auth);
      expectError(res, 403, 'URL_NOT_ALLOWED');
    }
    expect((await get(x)).body.branches).toEqual([]);
    expect((await api(base, 'POST', `/v1/transactions/${x}/branches`, { branchId: 'ok', ...p.urls('w') }, auth)).status).toBe(201);

    // in a begin, one foreign URL refuses the whole begin; driven, no try is called
    for (const drive of [false, true]) {
      const y = xid('allow-begin');
      const res = await api(base, 'POST', '/v1/transactions', { xid: y, drive, branches: [{ branchId: 'in', ...p.urls('w') }, foreign[0]] }, auth);
      expectError(res, 403, 'URL_NOT_ALLOWED');
      expectError(await get(y), 404, 'TX_NOT_FOUND');
      expect(p.callsOf('try', y)).toHaveLength(0);
    }
    expect(outside.calls).toHaveLength(0);
    await api(base, 'POST', `/v1/transactions/${x}/rollback`, { wait: true }, auth);
    expect(outside.calls).toHaveLength(0);
  });
});
