import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCoordinator, type Running } from '../support/coordinator.js';
import { api, eventually } from '../support/http.js';
import { OwnPostgres } from '../support/own-postgres.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { requireService } from '../support/services.js';
import { expectError } from './api.fixture.js';

// A PostgreSQL server of this file's own: stopping it disturbs no other test.
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const pg = (await requireService('postgres')) ? await OwnPostgres.start() : null;
if (!pg && IN_CI) throw new Error('the PostgreSQL server binaries are missing, and CI=true: this suite must fail, not skip');

describe.runIf(pg)('the PostgreSQL log stopped and started again', () => {
  let r: Running;
  let p: TestParticipant;
  let confirms = 503;
  beforeAll(async () => {
    p = await startParticipant();
    p.on('confirm', () => ({ status: confirms, body: {} }));
    // a database that does not exist yet: the coordinator creates it
    const url = pg!.url('dtx_outage');
    r = await startCoordinator({ db: { kind: 'postgres', url, drop: async () => {} } });
  });
  afterAll(async () => {
    await r?.close();
    await p?.close();
    await pg?.remove();
  });

  test('answers 503 STORE_UNAVAILABLE with Retry-After at once while it is down, and carries on by itself once it is back', async () => {
    const branches = [{ branchId: 'a', action: 'w.debit', ...p.urls('w.debit') }];
    // decided before the outage, its confirm failing: recovery's work across the outage
    const stuck = await api(r.url, 'POST', '/v1/transactions', { drive: true, wait: false, branches });
    expect(stuck.body.status).toBe('committing');
    const open = (await api(r.url, 'POST', '/v1/transactions', {})).body.xid as string;

    await pg!.stop();
    for (const call of [
      () => api(r.url, 'POST', '/v1/transactions', { drive: true, branches }),
      () => api(r.url, 'POST', `/v1/transactions/${open}/commit`, {}),
      () => api(r.url, 'GET', `/v1/transactions/${stuck.body.xid}`),
      () => api(r.url, 'GET', '/readyz'),
    ]) {
      const t0 = Date.now();
      const res = await call();
      expect(Date.now() - t0).toBeLessThan(1000);
      expectError(res, 503, 'STORE_UNAVAILABLE');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect((await api(r.url, 'GET', '/healthz')).status).toBe(200);

    confirms = 200;
    await pg!.start();
    // no restart of the coordinator: its pool reconnects and recovery finishes what was decided
    await eventually(async () => (await api(r.url, 'GET', `/v1/transactions/${stuck.body.xid}`)).body.status === 'committed', 15_000);
    expect((await api(r.url, 'GET', '/readyz')).status).toBe(200);
    expect((await api(r.url, 'POST', `/v1/transactions/${open}/commit`, { wait: true })).body.status).toBe('committed');
    expect((await api(r.url, 'POST', '/v1/transactions', { drive: true, branches })).body.status).toBe('committed');
  });
});
