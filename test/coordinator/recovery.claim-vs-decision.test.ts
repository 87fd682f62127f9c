import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { WriteOp } from '../../coordinator/src/log/write-batcher.js';
import { TransactionLog } from '../../coordinator/src/log/transaction-log.js';
import { insertTransaction } from '../../coordinator/src/log/transitions/insertTransaction.js';
import { markRollingBack } from '../../coordinator/src/log/transitions/markRollingBack.js';
import type { CallRequest, ParticipantCaller } from '../../coordinator/src/phase2/participant-caller.js';
import { recoverTransaction } from '../../coordinator/src/recovery/recover-transaction.js';
import { branchRecord, txRecord } from '../support/records.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { xid } from './api.fixture.js';

// Recovery claims an expired `trying` transaction; the initiator's own commit, past the
// deadline, decides rollback right after that claim and drives the cancels itself.
// Recovery must then leave it to the decider: one driver, each cancel sent once.
const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

describe.each(stores)('recovery against a decision taken after its claim on %s', (kind) => {
  let db: FreshDatabase;
  let log: TransactionLog;
  beforeAll(async () => {
    db = await freshDatabase(kind, 'claimrace');
    log = await TransactionLog.open(db.url);
  });
  afterAll(async () => {
    await log.close();
    await db.drop();
  });

  test('the claim loses to the decision: recovery drives nothing', async () => {
    const x = xid('expired');
    const past = Date.now() - 5000;
    const tx = txRecord(x, { now: past, timeoutMs: 1000 });
    const branch = (id: string, seq: number) => branchRecord(x, id, { seq, now: past });
    await log.write((trx) => insertTransaction(trx, tx, [branch('debit', 1), branch('credit', 2)]));

    // the log recovery writes through: after each of its writes, the initiator's decision lands once
    let decided = false;
    const racing = Object.create(log) as TransactionLog;
    racing.write = async <T,>(op: WriteOp<T>): Promise<T> => {
      const out = await log.write(op);
      if (!decided) {
        decided = true;
        const now = Date.now();
        expect(await log.write((trx) => markRollingBack(trx, x, 'timeout', now, now + 10_000))).toBe(true);
      }
      return out;
    };
    const calls: CallRequest[] = [];
    const caller: ParticipantCaller = { call: async (req) => (calls.push(req), { kind: 'ok', status: 200, retryAfterMs: null }), close: async () => {} };

    const out = await recoverTransaction(
      { log: racing, caller, now: Date.now, leaseMs: 10_000, options: { retryBaseMs: 100, retryMaxMs: 1000, callTimeoutMs: 1000, stuckAfterAttempts: 12 } },
      x,
    );
    expect(decided).toBe(true);
    expect(out).toBeNull();
    expect(calls).toEqual([]);
    const row = await log.read((k) => k('dtx_global_tx').where({ xid: x }).first('status'));
    expect(row.status).toBe('rolling_back');
  });
});
