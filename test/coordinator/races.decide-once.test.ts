import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCoordinator, type Running } from '../support/coordinator.js';
import { expectOneDecision } from '../support/decision-race.js';
import { api, eventually } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

describe.each(stores)('one decision under races on %s', (kind) => {
  let db: FreshDatabase;
  let coordinators: Running[];
  let p: TestParticipant;

  beforeAll(async () => {
    db = await freshDatabase(kind, 'races');
    p = await startParticipant();
    // on a server store two coordinators share the log, as in production; SQLite is single-process
    const n = kind === 'sqlite' ? 1 : 2;
    coordinators = [];
    for (let i = 0; i < n; i++) coordinators.push(await startCoordinator({ db }));
  });
  afterAll(async () => {
    for (const c of coordinators) await c.close();
    await p.close();
    await db.drop();
  });

  const pick = (i: number) => coordinators[i % coordinators.length]!.url;

  async function beginWithBranches(timeoutMs = 30_000): Promise<string> {
    const b = await api(pick(0), 'POST', '/v1/transactions', { timeoutMs });
    expect(b.status).toBe(201);
    for (const id of ['debit', 'credit']) {
      const r = await api(pick(1), 'POST', `/v1/transactions/${b.body.xid}/branches`, { branchId: id, action: `w.${id}`, ...p.urls(`w.${id}`) });
      expect(r.status).toBe(201);
    }
    return b.body.xid;
  }

  test('many concurrent commits and rollbacks on one xid decide once', async () => {
    for (let round = 0; round < 8; round++) {
      const xid = await beginWithBranches();
      const verbs = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 'commit' : 'rollback'));
      const answers = await Promise.all(verbs.map((v, i) => api(pick(i), 'POST', `/v1/transactions/${xid}/${v}`, {}).then((r) => ({ v, ...r }))));
      const final = await eventually(async () => {
        const g = await api(pick(0), 'GET', `/v1/transactions/${xid}`);
        return ['committed', 'rolled_back'].includes(g.body.status) ? g.body : null;
      });
      expectOneDecision(answers, final.status, p, xid, ['debit', 'credit']);
    }
  });

  test('a commit racing the deadline rollback decides once', async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < 8; round++) {
      const xid = await beginWithBranches(1000);
      const g0 = await api(pick(0), 'GET', `/v1/transactions/${xid}`);
      const deadline = Date.parse(g0.body.deadline);
      await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now() - 15 + round * 4)));
      const c = await api(pick(round), 'POST', `/v1/transactions/${xid}/commit`, {});
      const final = await eventually(async () => {
        const g = await api(pick(0), 'GET', `/v1/transactions/${xid}`);
        return ['committed', 'rolled_back'].includes(g.body.status) ? g.body : null;
      });
      outcomes.push(final.status);
      if (final.status === 'committed') {
        expect([200, 202]).toContain(c.status);
        expect(p.callsOf('cancel', xid)).toHaveLength(0);
        expect(p.callsOf('confirm', xid)).toHaveLength(2);
      } else {
        expect(c.status).toBe(409);
        expect(c.body.error.code).toBe('TX_ROLLED_BACK');
        expect(final.reason).toBe('timeout');
        expect(p.callsOf('confirm', xid)).toHaveLength(0);
        expect(p.callsOf('cancel', xid)).toHaveLength(2);
      }
    }
    expect(outcomes).toHaveLength(8);
  });
});
