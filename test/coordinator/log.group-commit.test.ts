import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { storeKinds } from '../support/services.js';
import { startCoordinator, xid, type Running } from './api.fixture.js';

// Concurrent writes share statements (group commit). What a client must see is the
// same as one write at a time, including when one write of a batch is not the
// expected case and the batch is replayed write by write.
const stores = await storeKinds(['sqlite', 'mysql']);

describe.each(stores)('group commit on %s', (kind) => {
  let r: Running;
  let p: TestParticipant;

  beforeAll(async () => {
    r = await startCoordinator(kind, 'groupcommit');
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
});
