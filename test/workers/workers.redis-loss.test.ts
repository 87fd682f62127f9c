import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/http.js';
import { requireService } from '../support/services.js';
import { LedgerParticipant } from './support/ledger.js';
import { OwnRedis } from './support/redis-server.js';
import { expectAppliedOnce, Scenario, seedUnfinished } from './support/scenario.js';

// a redis-server of this file's own: flushing and stopping it disturbs no other test
const redis = (await requireService('redis')) ? await OwnRedis.start() : null;
const scenarios = redis ? await Scenario.perStore('redisloss', redis.url) : [];

let p: LedgerParticipant;
beforeAll(async () => {
  p = await LedgerParticipant.start();
});
afterAll(async () => {
  await redis?.stop();
  await p?.close();
});

const twoBranches = () => [
  { branchId: 'a', action: 'w.debit', ...p.urls('w.debit') },
  { branchId: 'b', action: 'w.credit', ...p.urls('w.credit') },
];

describe.each(scenarios)('on a %s log', (_kind, scenario) => {
  afterAll(() => scenario.close());

  test('FLUSHALL while transactions are pending loses nothing: the next sweep re-enqueues from the log', async () => {
    const s = scenario;
    const c = await s.coordinator();
    p.mode = { confirm: 'fail', cancel: 'fail' };
    const xids = await seedUnfinished(c.url, 20, twoBranches);
    const workers = await Promise.all([s.worker(4), s.worker(4)]);
    // the workers retry and fail for a while, so jobs and the sweep scheduler live in Redis
    await new Promise((r) => setTimeout(r, 1000));
    expect(Number(await redis!.command('DBSIZE'))).toBeGreaterThan(0);
    expect(await redis!.command('FLUSHALL')).toBe('OK');
    p.mode = { confirm: 'ok', cancel: 'ok' };
    const flushedAt = Date.now();

    const rows = await s.waitFor(xids, ['committed'], 20_000);
    expect(rows).toHaveLength(20);
    console.log(`[workers] after FLUSHALL, 20 pending transactions committed within ${Date.now() - flushedAt} ms`);
    expectAppliedOnce(p, 'confirm', xids, ['a', 'b']);
    for (const w of workers) expect((await s.stop(w)).code).toBe(0);
    await c.kill('SIGTERM');
  });

  test('Redis stopped and restarted empty: workers ride it out and every transaction ends as decided', async () => {
    const s = scenario;
    const c = await s.coordinator();
    p.mode = { confirm: 'fail', cancel: 'fail' };
    const committing = await seedUnfinished(c.url, 12, twoBranches);
    const rollingBack = await seedUnfinished(c.url, 6, () => [{ branchId: 'r', action: 'w.reject', ...p.urls('w.reject') }], 'rolling_back');
    const workers = await Promise.all([s.worker(4), s.worker(4)]);
    await new Promise((r) => setTimeout(r, 500));

    await redis!.stop();
    p.mode = { confirm: 'ok', cancel: 'ok' };
    // an operator retry while Redis is down still answers: the log marks it due, the sweep takes it later
    const t0 = Date.now();
    const retry = await api(c.url, 'POST', `/v1/transactions/${committing[0]}/retry`);
    expect(retry.status).toBe(202);
    expect(Date.now() - t0).toBeLessThan(5000);
    await new Promise((r) => setTimeout(r, 2500));
    expect(workers.map((w) => w.proc.exitCode)).toEqual([null, null]); // still running
    const stillPending = (await s.rows([...committing, ...rollingBack])).filter((r) => r.status === 'committing' || r.status === 'rolling_back');
    expect(stillPending.length).toBeGreaterThan(0); // nothing drove them while Redis was gone

    await redis!.start(); // empty: no jobs, no scheduler
    const restartedAt = Date.now();
    const rows = await s.waitFor([...committing, ...rollingBack], ['committed', 'rolled_back'], 25_000);
    console.log(`[workers] after the Redis restart, 18 pending transactions finished within ${Date.now() - restartedAt} ms`);
    const status = Object.fromEntries(rows.map((r) => [r.xid, r.status]));
    expect(committing.map((x) => status[x])).toEqual(Array(12).fill('committed'));
    expect(rollingBack.map((x) => status[x])).toEqual(Array(6).fill('rolled_back'));
    expectAppliedOnce(p, 'confirm', committing, ['a', 'b']);
    expectAppliedOnce(p, 'cancel', rollingBack, ['r']);
    for (const w of workers) expect((await s.stop(w)).code).toBe(0);
  });
});
