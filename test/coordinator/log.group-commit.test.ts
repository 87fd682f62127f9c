import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { storeKinds } from '../support/services.js';
import { startCoordinator, xid, type Running } from './api.fixture.js';

// Concurrent writes share statements (group commit). What a client must see is the
// same as one write at a time, including when one write of a batch is not the
// expected case and the batch is replayed write by write.
const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

describe.each(stores)('group commit on %s', (kind) => {
  let r: Running;
  let p: TestParticipant;

  beforeAll(async () => {
    r = await startCoordinator({ kind, label: 'groupcommit' });
    p = await startParticipant();
  });
  afterAll(async () => {
    await r.close();
    await p.close();
  });

  async function logCommits(): Promise<number> {
    const m = await fetch(`${r.url}/metrics`).then((res) => res.text());
    return Number(/^dtx_log_commits (\d+)/m.exec(m)![1]);
  }

  test('concurrent driven transactions all commit, each confirm sent once, in fewer log commits than writes', async () => {
    const before = await logCommits();
    const n = 40;
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        api(r.url, 'POST', '/v1/transactions', {
          drive: true,
          branches: ['a', 'b'].map((id) => ({ branchId: id, action: `g.${id}`, ...p.urls(`g.${id}`), payload: { i, id } })),
        }),
      ),
    );
    for (const a of answers) {
      expect(a.status).toBe(201);
      expect(a.body.status).toBe('committed');
      expect(a.body.branches.map((b: { status: string }) => b.status)).toEqual(['confirmed', 'confirmed']);
      expect(p.callsOf('confirm', a.body.xid)).toHaveLength(2);
      expect(p.callsOf('cancel', a.body.xid)).toHaveLength(0);
      const g = await api(r.url, 'GET', `/v1/transactions/${a.body.xid}`);
      expect(g.body.status).toBe('committed');
      expect(g.body.branches.map((b: { status: string }) => b.status)).toEqual(['confirmed', 'confirmed']);
    }
    // three log writes per transaction (begin, decision, finish); shared commits make far fewer
    expect(await logCommits() - before).toBeLessThan(3 * n);
  });

  test('the same xid begun twice at once: one 201, one 200 for the same settings, 409 TX_EXISTS for others', async () => {
    const same = Array.from({ length: 12 }, () => xid('dup'));
    const other = Array.from({ length: 12 }, () => xid('dupother'));
    const answers = await Promise.all([
      ...same.flatMap((x) => [api(r.url, 'POST', '/v1/transactions', { xid: x, timeoutMs: 30_000 }), api(r.url, 'POST', '/v1/transactions', { xid: x, timeoutMs: 30_000 })]),
      ...other.flatMap((x) => [api(r.url, 'POST', '/v1/transactions', { xid: x, timeoutMs: 30_000 }), api(r.url, 'POST', '/v1/transactions', { xid: x, timeoutMs: 40_000 })]),
    ]);
    for (let i = 0; i < same.length; i++) {
      expect([answers[2 * i]!.status, answers[2 * i + 1]!.status].sort()).toEqual([200, 201]);
    }
    const offset = 2 * same.length;
    for (let i = 0; i < other.length; i++) {
      const pair = [answers[offset + 2 * i]!, answers[offset + 2 * i + 1]!];
      const statuses = pair.map((a) => a.status).sort();
      expect(statuses).toEqual([201, 409]);
      expect(pair.find((a) => a.status === 409)!.body.error.code).toBe('TX_EXISTS');
      // the winner's settings are what the log holds
      const g = await api(r.url, 'GET', `/v1/transactions/${other[i]}`);
      const winner = pair.find((a) => a.status === 201)!;
      expect(g.body.deadline).toBe(winner.body.deadline);
    }
  });

  test('commits in one batch where some are past their deadline: those roll back with 409, the rest commit', async () => {
    const begin = async (timeoutMs: number) => {
      const b = await api(r.url, 'POST', '/v1/transactions', { timeoutMs });
      expect(b.status).toBe(201);
      const x = b.body.xid as string;
      const reg = await api(r.url, 'POST', `/v1/transactions/${x}/branches`, { branchId: 'only', action: 'g.only', ...p.urls('g.only') });
      expect(reg.status).toBe(201);
      return x;
    };
    // a slow sweep would roll the expired ones back first; this coordinator sweeps every 50 ms,
    // so the expired ones are begun with a deadline that passes just before the commits go out
    const expired = await Promise.all(Array.from({ length: 8 }, () => begin(1000)));
    const fresh = await Promise.all(Array.from({ length: 8 }, () => begin(60_000)));
    await new Promise((res) => setTimeout(res, 1050));
    const all = [...expired, ...fresh];
    const answers = await Promise.all(all.map((x) => api(r.url, 'POST', `/v1/transactions/${x}/commit`, { wait: true })));
    answers.forEach((a, i) => {
      if (i < expired.length) {
        expect(a.status).toBe(409);
        expect(a.body.error.code).toBe('TX_ROLLED_BACK');
      } else {
        expect(a.status).toBe(200);
        expect(a.body.status).toBe('committed');
      }
    });
    for (const x of expired) {
      expect(p.callsOf('confirm', x)).toHaveLength(0);
      expect((await api(r.url, 'GET', `/v1/transactions/${x}`)).body.reason).toBe('timeout');
    }
    for (const x of fresh) expect(p.callsOf('confirm', x)).toHaveLength(1);
  });

  test('initiator flow at once: registrations and try reports of many transactions, with repeats, answer as one at a time', async () => {
    const n = 30;
    const xids: string[] = [];
    for (let i = 0; i < n; i++) xids.push((await api(r.url, 'POST', '/v1/transactions', { timeoutMs: 30_000 })).body.xid);
    const ids = ['b1', 'b2', 'b3'];
    const register = (x: string, id: string) => api(r.url, 'POST', `/v1/transactions/${x}/branches`, { branchId: id, action: `i.${id}`, ...p.urls(`i.${id}`), payload: { x, id } });
    // every branch of every transaction at once (numbered in the order they were sent), then repeats at once
    for (const id of ids) {
      const regs = await Promise.all(xids.map((x) => register(x, id)));
      for (const a of regs) expect(a.status, JSON.stringify(a.body)).toBe(201);
    }
    for (const a of await Promise.all(xids.map((x) => register(x, 'b1')))) expect(a.status).toBe(200);
    // every try report at once (every fifth transaction has a failed try), then repeats at once
    const report = (x: string, id: string, i: number) =>
      api(r.url, 'POST', `/v1/transactions/${x}/branches/${id}/try-result`, i % 5 === 0 && id === 'b2' ? { ok: false, error: 'no funds' } : { ok: true, result: { x, id } });
    const reports = await Promise.all(xids.flatMap((x, i) => ids.map((id) => report(x, id, i))));
    for (const a of reports) expect(a.status, JSON.stringify(a.body)).toBe(200);
    for (const a of await Promise.all(xids.map((x, i) => report(x, 'b2', i)))) expect(a.status).toBe(200);
    const commits = await Promise.all(xids.map((x) => api(r.url, 'POST', `/v1/transactions/${x}/commit`, { wait: true })));
    for (let i = 0; i < n; i++) {
      const x = xids[i]!;
      const g = (await api(r.url, 'GET', `/v1/transactions/${x}`)).body;
      expect(g.branches.map((b: { branchId: string }) => b.branchId)).toEqual(ids);
      if (i % 5 === 0) {
        expect(commits[i]!.status).toBe(409);
        expect(commits[i]!.body.error.code).toBe('TX_ROLLED_BACK');
        expect(p.callsOf('confirm', x)).toHaveLength(0);
        await eventually(async () => p.callsOf('cancel', x).length === 3);
      } else {
        expect(commits[i]!.status).toBe(200);
        expect(commits[i]!.body.status).toBe('committed');
        const confirms = p.callsOf('confirm', x);
        expect(confirms.map((c) => c.body.branchId).sort()).toEqual(ids);
        for (const c of confirms) expect(c.body.tryResult).toEqual({ x, id: c.body.branchId });
        expect(g.branches.map((b: { status: string }) => b.status)).toEqual(['confirmed', 'confirmed', 'confirmed']);
      }
    }
  });
});
