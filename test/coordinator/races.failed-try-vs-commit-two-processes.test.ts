import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnDtx, type DtxProcess } from '../support/coordinator-process.js';
import { api, eventually, type JsonResponse } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';

// The review's reproduction, end to end: two coordinator processes on one log; for each
// transaction, one is told that branch b1's try failed while the other is told to commit,
// at the same moment, hundreds at a time so the commits are decided in batches. Every
// transaction must end with one decision that both answers agree with: committed with
// every branch confirmed (the failed-try report refused), or rolled back with every
// branch cancelled (the commit refused).
const stores = (await storeKinds(['mysql', 'postgres'])).filter((k) => k !== 'sqlite');
const TRANSACTIONS = 300;

/** After a few ms of jitter, so either side may arrive first; a 503 (a loaded log) is sent again after Retry-After, as clients do. */
const jittered = async (call: () => Promise<JsonResponse>): Promise<JsonResponse> => {
  await new Promise((r) => setTimeout(r, Math.random() * 8));
  for (let i = 0; ; i++) {
    const answer = await call();
    if (answer.status !== 503 || i >= 20) return answer;
    await new Promise((r) => setTimeout(r, 1000 * Number(answer.headers['retry-after'] ?? 1)));
  }
};

describe.each(stores)('a failed try against a commit, through two coordinator processes on %s', (kind) => {
  let db: FreshDatabase;
  let a: DtxProcess;
  let b: DtxProcess;
  let p: TestParticipant;

  beforeAll(async () => {
    db = await freshDatabase(kind, 'failedtry2p');
    p = await startParticipant();
    const env = { DTX_DATABASE_URL: db.url, DTX_SWEEP_INTERVAL_MS: '200', DTX_RETRY_BASE_MS: '100', DTX_RETRY_MAX_MS: '500' };
    a = await spawnDtx(['serve'], env);
    b = await spawnDtx(['serve'], env);
  });
  afterAll(async () => {
    await a?.kill();
    await b?.kill();
    await p?.close();
    await db?.drop();
  });

  async function begin(): Promise<string> {
    const tx = await api(a.url, 'POST', '/v1/transactions', {
      timeoutMs: 60_000,
      branches: ['b1', 'b2'].map((id) => ({ branchId: id, action: `w.${id}`, ...p.urls(`w.${id}`) })),
    });
    expect(tx.status).toBe(201);
    return tx.body.xid;
  }

  test(`${TRANSACTIONS} races: one decision each, and both answers agree with it`, async () => {
    const xids = await Promise.all(Array.from({ length: TRANSACTIONS }, begin));
    const answers = await Promise.all(
      xids.map(async (xid) => {
        const [report, commit] = await Promise.all([
          jittered(() => api(a.url, 'POST', `/v1/transactions/${xid}/branches/b1/try-result`, { ok: false, error: 'insufficient balance' })),
          jittered(() => api(b.url, 'POST', `/v1/transactions/${xid}/commit`, {})),
        ]);
        return { xid, report, commit };
      }),
    );
    const finals = await Promise.all(
      xids.map((xid) =>
        eventually(async () => {
          const r = await api(a.url, 'GET', `/v1/transactions/${xid}`);
          return ['committed', 'rolled_back'].includes(r.body.status) ? r.body : undefined;
        }, 60_000),
      ),
    );
    let committed = 0;
    for (const [i, tx] of finals.entries()) {
      const { report, commit } = answers[i]!;
      const branches = Object.fromEntries(tx.branches.map((br: { branchId: string; status: string }) => [br.branchId, br.status]));
      if (tx.status === 'committed') {
        committed++;
        expect(branches).toEqual({ b1: 'confirmed', b2: 'confirmed' });
        expect([200, 202]).toContain(commit.status); // committed, or committing while phase 2 ran
        expect([report.status, report.body.error?.code]).toEqual([409, 'TX_NOT_TRYING']);
      } else {
        expect(branches).toEqual({ b1: 'cancelled', b2: 'cancelled' });
        expect([commit.status, commit.body.error?.code]).toEqual([409, 'TX_ROLLED_BACK']);
        expect(report.status).toBe(200);
      }
    }
    // both outcomes occur, or the race was not a race
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(TRANSACTIONS);
  });
});
