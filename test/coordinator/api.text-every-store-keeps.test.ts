import { describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';
import { apiSuite, expectError, listAll } from './api.fixture.js';

// U+0000 is text PostgreSQL cannot store. A client's own text with it is refused with 400
// and writes nothing; a participant's words with it are stored cleaned (U+FFFD). On no
// store does it answer 503, and no request makes the log replay a batch one write at a time.
const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);
const NUL = 'a\u0000b';

describe.each(stores)('text with U+0000 on %s', (kind) => {
  const s = apiSuite(kind, 'nultext', { stuckAfterAttempts: 2 });

  const replays = async () => Number(/^dtx_log_replays (\d+)/m.exec((await api(s.base, 'GET', '/metrics')).body)?.[1]);

  test("a client's own text is refused with 400 and nothing is written", async () => {
    const before = (await listAll(s.base)).length;
    const urls = s.p.urls('act.x');
    const begin = await api(s.base, 'POST', '/v1/transactions', { branches: [{ branchId: 'x', ...urls, cancelUrl: `${urls.cancelUrl}${NUL}` }] });
    expectError(begin, 400, 'INVALID_REQUEST');
    expect(begin.body.error.details.issues[0].path).toBe('/body/branches/0/cancelUrl');
    expect((await listAll(s.base)).length).toBe(before);

    const x = await s.begin();
    expectError(await s.register(x, 'x', { action: NUL }), 400, 'INVALID_REQUEST');
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, { reason: NUL }), 400, 'INVALID_REQUEST');
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { reason: NUL }), 400, 'INVALID_REQUEST');
    expectError(await api(s.base, 'GET', `/v1/transactions?cursor=${encodeURIComponent(NUL)}`), 400, 'INVALID_REQUEST');
    expect(await s.get(x)).toMatchObject({ status: 'trying', branches: [] });
  });

  test("a try refused in a participant's words with U+0000 rolls back, its error stored cleaned", async () => {
    const x = await s.begin();
    expect((await s.register(x, 'x')).status).toBe(201);
    const report = await api(s.base, 'POST', `/v1/transactions/${x}/branches/x/try-result`, { ok: false, error: `refused: ${NUL}` });
    expect(report.status).toBe(200);
    expect((await s.get(x)).branches[0]).toMatchObject({ status: 'try_failed', lastError: 'refused: a\uFFFDb' });
    const commit = await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: true });
    expectError(commit, 409, 'TX_ROLLED_BACK');
    const tx = await eventually(async () => {
      const t = await s.get(x);
      return t.status === 'rolled_back' ? t : undefined;
    });
    expect(tx.reason).toBe('try failed: branch x');
  });

  test("a commit's try results with U+0000 in an error: the same", async () => {
    const x = await s.begin();
    expect((await s.register(x, 'x')).status).toBe(201);
    const commit = await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: true, tryResults: { x: { ok: false, error: NUL } } });
    expectError(commit, 409, 'TX_ROLLED_BACK');
    await eventually(async () => (await s.get(x)).status === 'rolled_back');
    expect((await s.get(x)).reason).toBe('try failed: branch x');
  });

  test('a confirm failing with U+0000 in its message: every round recorded, backed off, then stuck', async () => {
    s.p.on('confirm', () => ({ status: 500, body: { error: { code: 'BOOM', message: `disk ${NUL}` } } }));
    const x = await s.begin();
    expect((await s.register(x, 'x')).status).toBe(201);
    expect((await api(s.base, 'POST', `/v1/transactions/${x}/commit`, {})).status).toBeLessThan(300);
    const tx = await eventually(async () => {
      const t = await s.get(x);
      return t.stuck ? t : undefined;
    });
    expect(tx).toMatchObject({ status: 'committing', stuck: true });
    expect(tx.attempts).toBeGreaterThanOrEqual(2);
    expect(tx.lastError).toContain('\uFFFD');
    expect(tx.branches[0].lastError).toContain('disk a\uFFFDb');
    const attempts = await api(s.base, 'GET', `/v1/transactions/${x}/attempts`);
    expect(attempts.body.items.filter((a: { phase: string }) => a.phase === 'confirm').length).toBeGreaterThanOrEqual(2);
    s.p.on('confirm', () => ({ status: 200, body: {} }));
    await api(s.base, 'POST', `/v1/transactions/${x}/retry`);
    await eventually(async () => (await s.get(x)).status === 'committed');
  });

  test('none of it replayed a batch one write at a time', async () => {
    // forty of each at once, so they share batches with good writes
    const good = await Promise.all(Array.from({ length: 40 }, () => s.begin()));
    const answers = await Promise.all(
      good.flatMap((x) => [
        api(s.base, 'POST', `/v1/transactions/${x}/rollback`, { reason: NUL }),
        api(s.base, 'POST', `/v1/transactions/${x}/branches`, { branchId: 'x', action: NUL, ...s.p.urls('act.x') }),
        s.register(x, 'y'),
      ]),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([...Array(80).fill(400), ...Array(40).fill(201)].sort());
    expect(await replays()).toBe(0);
  });
});
