import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolveOptions } from '../../coordinator/src/config/options.js';
import type { WriteOp } from '../../coordinator/src/log/write-batcher.js';
import { TransactionLog } from '../../coordinator/src/log/transaction-log.js';
import { claimForRecovery } from '../../coordinator/src/log/transitions/claimForRecovery.js';
import { insertTransaction } from '../../coordinator/src/log/transitions/insertTransaction.js';
import { Metrics } from '../../coordinator/src/metrics.js';
import type { CallRequest, ParticipantCaller } from '../../coordinator/src/phase2/participant-caller.js';
import { decisionHttpStatus } from '../../coordinator/src/http/routes/transactions.js';
import { CoordinatorService } from '../../coordinator/src/service/coordinator-service.js';
import { branchRecord, txRecord } from '../support/records.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { xid } from './api.fixture.js';

// A repeated commit with `wait: true` joins the recovery this process is running for the
// same transaction. When that recovery finds another process holding the transaction, it
// has nothing to report, and the commit must answer what the log says (committing), not
// a status made up for "no news".
const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

describe.each(stores)('a waiting commit joined to a recovery that drives nothing, on %s', (kind) => {
  let db: FreshDatabase;
  let log: TransactionLog;
  beforeAll(async () => {
    db = await freshDatabase(kind, 'joinwait');
    log = await TransactionLog.open(db.url);
  });
  afterAll(async () => {
    await log.close();
    await db.drop();
  });

  test('answers 202 committing', async () => {
    const x = xid('joined');
    const past = Date.now() - 5000;
    // committing, its phase-2 lease run out: due for recovery
    const tx = txRecord(x, { now: past, status: 'committing', attempts: 1, nextRetryAt: past });
    const branch = branchRecord(x, 'a', { now: past, status: 'tried', attempts: 1 });
    await log.write((trx) => insertTransaction(trx, tx, [branch]));

    // recovery's claim waits at a gate; before it runs, another process claims the transaction
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const gated = Object.create(log) as TransactionLog;
    gated.write = async <T,>(op: WriteOp<T>): Promise<T> => {
      await gate;
      const now = Date.now();
      expect(await log.write((trx) => claimForRecovery(trx, x, 'committing', now, now + 60_000))).toBe(true);
      return log.write(op);
    };
    // the gate opens once the repeated commit has been decided (and so has joined the recovery)
    gated.apply = async (transition, item) => {
      const out = await log.apply(transition, item);
      setImmediate(open);
      return out;
    };
    const calls: CallRequest[] = [];
    const caller: ParticipantCaller = { call: async (req) => (calls.push(req), { kind: 'ok', status: 200, retryAfterMs: null }), close: async () => {} };
    const service = new CoordinatorService({ log: gated, caller, options: resolveOptions({ databaseUrl: db.url }), metrics: new Metrics(() => ({ commits: 0, replays: 0 })) });

    const recovering = service.recover(x);
    const answer = await service.decide(x, 'commit', { wait: true });
    expect(await recovering).toBeNull();
    expect({ code: decisionHttpStatus(answer.status), body: answer }).toEqual({ code: 202, body: { xid: x, status: 'committing' } });
    expect(calls).toEqual([]);
  });
});
