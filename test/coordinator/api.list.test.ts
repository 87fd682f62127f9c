import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { storeKinds } from '../support/services.js';
import { expectError, ISO_MS, startCoordinator, xid, type Running } from './api.fixture.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

// `mode` since v1.2 (PROTOCOL.md "v1.2 additions")
const SUMMARY_KEYS = ['attempts', 'createdAt', 'deadline', 'finishedAt', 'lastError', 'meta', 'mode', 'nextRetryAt', 'reason', 'status', 'stuck', 'updatedAt', 'xid'];

/** GET's shape and the list endpoint's filters and cursor pages (PROTOCOL.md). */
describe.each(stores)('get and list on %s', (kind) => {
  let r: Running;
  let p: TestParticipant;
  let base: string;
  const committed: string[] = [];
  const rolledBack: string[] = [];
  const trying: string[] = [];

  beforeAll(async () => {
    r = await startCoordinator({ kind, label: 'api_list' });
    base = r.url;
    p = await startParticipant();
    // 57 transactions: more than a default page (50); a few decided each way
    for (let i = 0; i < 57; i++) {
      const x = xid(`l${String(i).padStart(2, '0')}`);
      expect((await api(base, 'POST', '/v1/transactions', { xid: x, meta: { i } })).status).toBe(201);
      if (i % 10 === 3) {
        await api(base, 'POST', `/v1/transactions/${x}/branches`, { branchId: 'a', ...p.urls('w') });
        expect((await api(base, 'POST', `/v1/transactions/${x}/commit`, { wait: true })).status).toBe(200);
        committed.push(x);
      } else if (i % 10 === 7) {
        expect((await api(base, 'POST', `/v1/transactions/${x}/rollback`, { wait: true })).status).toBe(200);
        rolledBack.push(x);
      } else trying.push(x);
    }
  });
  afterAll(async () => {
    await r.close();
    await p.close();
  });

  /** The 57 made in beforeAll (the shape test adds its own). */
  const mine = (x: string) => /^l\d\d-/.test(x);
  const page = (q: string) => api(base, 'GET', `/v1/transactions?${q}`);
  async function walk(q: string, limit: number): Promise<{ xids: string[]; pages: number; items: any[] }> {
    const items: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await page(`${q}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
      if (cursor !== null) expect(typeof cursor).toBe('string');
      pages++;
    } while (cursor);
    return { xids: items.map((t) => t.xid), pages, items };
  }
  const newestFirst = (items: any[]) =>
    [...items].sort((a, b) => (a.createdAt === b.createdAt ? (a.xid < b.xid ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1)).map((t) => t.xid);

  test('GET returns every field of PROTOCOL.md with the right types', async () => {
    const x = xid('shape');
    await api(base, 'POST', '/v1/transactions', { xid: x, timeoutMs: 10_000, meta: { order: 'o-1', n: [1, 2] } });
    await api(base, 'POST', `/v1/transactions/${x}/branches`, { branchId: 'debit', action: 'wallet.debit', ...p.urls('wallet.debit'), payload: { amount: 3 } });
    await api(base, 'POST', `/v1/transactions/${x}/branches`, { branchId: 'credit', ...p.urls('wallet.credit') });
    await api(base, 'POST', `/v1/transactions/${x}/branches/debit/try-result`, { ok: true, result: { hold: 1 } });
    const t = (await api(base, 'GET', `/v1/transactions/${x}`)).body;
    expect(Object.keys(t).sort()).toEqual([...SUMMARY_KEYS, 'branches'].sort());
    expect(t).toMatchObject({ xid: x, status: 'trying', stuck: false, reason: null, finishedAt: null, attempts: 0, lastError: null, meta: { order: 'o-1', n: [1, 2] } });
    for (const k of ['createdAt', 'updatedAt', 'deadline']) expect(t[k]).toMatch(ISO_MS);
    expect(Date.parse(t.deadline) - Date.parse(t.createdAt)).toBe(10_000);
    expect(t.nextRetryAt === null || ISO_MS.test(t.nextRetryAt)).toBe(true);
    expect(t.branches).toHaveLength(2);
    const [debit, credit] = t.branches;
    expect(Object.keys(credit).sort()).toEqual(['action', 'attempts', 'branchId', 'lastError', 'status', 'updatedAt']);
    expect(credit).toMatchObject({ branchId: 'credit', action: null, status: 'registered', attempts: 0, lastError: null });
    expect(debit).toMatchObject({ branchId: 'debit', action: 'wallet.debit', status: 'tried', attempts: 0, lastError: null, tryResult: { hold: 1 } });
    for (const b of t.branches) expect(b.updatedAt).toMatch(ISO_MS);

    await api(base, 'POST', `/v1/transactions/${x}/commit`, { wait: true });
    const done = (await api(base, 'GET', `/v1/transactions/${x}`)).body;
    expect(done).toMatchObject({ status: 'committed', stuck: false, nextRetryAt: null, lastError: null });
    expect(done.finishedAt).toMatch(ISO_MS);
    expect(Date.parse(done.updatedAt)).toBeGreaterThanOrEqual(Date.parse(t.updatedAt));
    expect(done.branches.map((b: any) => b.status)).toEqual(['confirmed', 'confirmed']);
    // without meta, meta is null
    const y = xid('nometa');
    await api(base, 'POST', '/v1/transactions', { xid: y });
    expect((await api(base, 'GET', `/v1/transactions/${y}`)).body.meta).toBeNull();
    await api(base, 'POST', `/v1/transactions/${x}/rollback`, {});
    await api(base, 'POST', `/v1/transactions/${y}/rollback`, { wait: true });
  });

  test('the default page is 50 summaries, newest first, without branches', async () => {
    const res = await page('');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['items', 'nextCursor']);
    expect(res.body.items).toHaveLength(50);
    expect(typeof res.body.nextCursor).toBe('string');
    for (const t of res.body.items) {
      expect(Object.keys(t).sort()).toEqual(SUMMARY_KEYS);
      expect(t.createdAt).toMatch(ISO_MS);
    }
    expect(res.body.items.map((t: any) => t.xid)).toEqual(newestFirst(res.body.items));
  });

  test('cursor pages cover everything exactly once, newest first', async () => {
    const all = (await page('limit=500')).body;
    expect(all.nextCursor).toBeNull();
    expect(all.items.length).toBeGreaterThanOrEqual(57);
    for (const limit of [1, 7, 50]) {
      const { xids, pages } = await walk('', limit);
      expect(pages).toBe(Math.ceil(all.items.length / limit));
      expect(new Set(xids).size).toBe(xids.length);
      expect(xids).toEqual(all.items.map((t: any) => t.xid));
    }
    expect(all.items.map((t: any) => t.xid)).toEqual(newestFirst(all.items));
  });

  test('status and stuck filters, alone and with cursors', async () => {
    const c = await walk('status=committed', 2);
    expect(c.xids.filter(mine).sort()).toEqual([...committed].sort());
    expect(c.items.every((t) => t.status === 'committed')).toBe(true);
    const rb = await walk('status=rolled_back', 4);
    expect(rb.xids).toEqual(expect.arrayContaining(rolledBack));
    expect(rb.items.every((t) => t.status === 'rolled_back')).toBe(true);
    const tr = await walk('status=trying', 9);
    expect(tr.xids.sort()).toEqual(expect.arrayContaining(trying));
    expect(tr.items.every((t) => t.status === 'trying')).toBe(true);
    expect((await page('status=committing')).body).toEqual({ items: [], nextCursor: null });
    expect((await page('stuck=true')).body).toEqual({ items: [], nextCursor: null });
    const notStuck = await walk('stuck=false', 100);
    expect(notStuck.items.every((t) => t.stuck === false)).toBe(true);
    expect(notStuck.xids.length).toBe((await page('limit=500')).body.items.length);
    expect((await walk('status=committed&stuck=false', 1)).xids.filter(mine).sort()).toEqual([...committed].sort());
  });

  test('limit must be 1–500 and the cursor one the API gave out', async () => {
    expect((await page('limit=1')).body.items).toHaveLength(1);
    expect((await page('limit=500')).status).toBe(200);
    for (const q of ['limit=0', 'limit=501', 'limit=9999', 'limit=x']) expectError(await page(q), 400, 'INVALID_REQUEST');
    for (const cursor of ['garbage', 'bm90IGEgY3Vyc29y', '!!!', 'a'.repeat(301)]) expectError(await page(`cursor=${cursor}`), 400, 'INVALID_REQUEST');
  });
});
