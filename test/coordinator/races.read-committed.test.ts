import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TransactionLog } from '../../coordinator/src/log/transaction-log.js';
import type { BranchRecord, TxRecord } from '../../coordinator/src/log/records.js';
import { insertBranch } from '../../coordinator/src/log/transitions/insertBranch.js';
import { insertTransactionWrite } from '../../coordinator/src/log/transitions/insertTransaction.js';
import { recordTryReport } from '../../coordinator/src/log/transitions/recordTryReport.js';
import { commitWrite } from '../../coordinator/src/log/transitions/decide.js';
import { branchRecord, txRecord } from '../support/records.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { xid } from './api.fixture.js';

// Two coordinators on one MySQL or PostgreSQL log. A batch is one database transaction
// of many writes; what a write reads after losing a guarded update must be what the
// other coordinator committed, not the snapshot the batch's first read took.
const stores = (await storeKinds(['mysql', 'postgres'])).filter((k) => k !== 'sqlite');

describe.each(stores)('two coordinators on one %s log', (kind) => {
  let db: FreshDatabase;
  let a: TransactionLog;
  let b: TransactionLog;

  beforeAll(async () => {
    db = await freshDatabase(kind, 'readcommitted');
    a = await TransactionLog.open(db.url);
    b = await TransactionLog.open(db.url);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await db.drop();
  });

  const tx = (x: string, now = Date.now()): TxRecord => txRecord(x, { now });
  const branch = (x: string, id: string): Omit<BranchRecord, 'seq'> => branchRecord(x, id, { action: 'w.debit', payloadJson: '{"amount":1}' });
  /** Runs `write` on coordinator A in a batch that read the log before `meanwhile` ran on B. */
  async function afterStaleRead<T>(write: () => Promise<T>, meanwhile: () => Promise<unknown>): Promise<T> {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const other = xid('other');
    await a.apply(insertTransactionWrite, { tx: tx(other), branches: [] });
    const holder = a.write(async (trx) => {
      await trx('dtx_global_tx').where({ xid: other }).first(); // the batch's first read
      await gate;
    });
    const result = write(); // joins the same batch, behind the read
    await new Promise((r) => setTimeout(r, 50));
    await meanwhile();
    release();
    await holder;
    return result;
  }

  test('a commit retried on A after B committed answers committing, not rolled back', async () => {
    const x = xid('commit');
    await b.apply(insertTransactionWrite, { tx: tx(x), branches: [] });
    const decision = await afterStaleRead(
      () => a.apply(commitWrite, { xid: x, now: Date.now(), leaseMs: 5000, tries: [] }),
      () => b.apply(commitWrite, { xid: x, now: Date.now(), leaseMs: 5000, tries: [] }),
    );
    expect(decision).toMatchObject({ won: false, refused: false, status: 'committing' });
    expect((await a.read((k) => k('dtx_global_tx').where({ xid: x }).first('status'))).status).toBe('committing');
  });

  test('a registration retried on A after B registered it answers as a repeat, not BRANCH_CONFLICT', async () => {
    const x = xid('register');
    await b.apply(insertTransactionWrite, { tx: tx(x), branches: [] });
    const registered = await afterStaleRead(
      () => a.write((trx) => insertBranch(trx, branch(x, 'debit'))),
      () => b.write((trx) => insertBranch(trx, branch(x, 'debit'))),
    );
    expect(registered).toEqual({ created: false });
  });

  test('a failed try reported while a commit decides: the commit waits for it and rolls back', async () => {
    const x = xid('tryfail');
    await b.apply(insertTransactionWrite, { tx: tx(x), branches: [] });
    await b.write((trx) => insertBranch(trx, branch(x, 'debit')));
    // B's report is written but not yet committed when A's commit decides
    const report = await b.knex.transaction();
    await recordTryReport(report, x, { branchId: 'debit', ok: false, resultJson: null, error: 'insufficient balance' }, Date.now());
    const commit = a.apply(commitWrite, { xid: x, now: Date.now(), leaseMs: 5000, tries: [] });
    await new Promise((r) => setTimeout(r, 200));
    await report.commit();
    expect(await commit).toMatchObject({ won: true, refused: true, status: 'rolling_back', decided: 'rollback' });
    const row = await a.read((k) => k('dtx_global_tx').where({ xid: x }).first('status', 'reason'));
    expect(row).toEqual({ status: 'rolling_back', reason: 'try failed: branch debit' });
  });
});
