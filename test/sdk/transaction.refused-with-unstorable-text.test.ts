import { actionRef, TransactionUnfinishedError } from '@dtx/participant-sdk';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCoordinator, type Running } from '../support/coordinator.js';
import { eventually } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { storeKinds } from '../support/services.js';

// A participant refuses a try in words that hold U+0000, which PostgreSQL cannot store.
// transaction() relays them (the try result, the rollback reason): the transaction
// must still roll back, on every store, and not give up as unfinished.
const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

describe.each(stores)('transaction() with a try refused in unstorable text on %s', (kind) => {
  let r: Running;
  let p: TestParticipant;
  beforeAll(async () => {
    r = await startCoordinator({ kind, label: 'nulrefusal' });
    p = await startParticipant();
    p.on('try', () => ({ status: 200, body: { held: 1 } }), 'w.debit')
      .on('try', () => ({ status: 409, body: { error: { code: 'REFUSED', message: 'account\u0000closed' } } }), 'w.credit')
      .on('confirm', () => ({ status: 200, body: {} }))
      .on('cancel', () => ({ status: 200, body: {} }));
  });
  afterAll(async () => {
    await r?.close();
    await p?.close();
  });

  test('it rolls back, and the branch that tried is cancelled', async () => {
    const debit = actionRef(p.url, 'w.debit', { prefix: '' });
    const credit = actionRef(p.url, 'w.credit', { prefix: '' });
    const outcome = await r.client.transaction(async (tx) => {
      await tx.call(debit, { amount: 1 });
      await tx.call(credit, { amount: 1 });
    }, { timeoutMs: 10_000 });
    expect('error' in outcome && outcome.error).not.toBeInstanceOf(TransactionUnfinishedError);
    expect(outcome.status).toMatch(/^rolled_back|rolling_back$/);
    const view = await eventually(async () => {
      const v = await r.client.get(outcome.xid);
      return v.status === 'rolled_back' ? v : undefined;
    });
    expect(view.branches.find((b) => b.branchId !== undefined && b.action === 'w.debit')?.status).toBe('cancelled');
    expect(p.callsOf('cancel', outcome.xid).map((c) => c.action)).toContain('w.debit');
  });
});
