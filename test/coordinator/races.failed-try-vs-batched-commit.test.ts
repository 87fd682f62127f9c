import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isRetryableConflict } from '../../coordinator/src/log/database.js';
import { TransactionLog } from '../../coordinator/src/log/transaction-log.js';
import { insertTransactionWrite } from '../../coordinator/src/log/transitions/insertTransaction.js';
import { markCommittingAll } from '../../coordinator/src/log/transitions/markCommitting.js';
import { recordCommitReports, recordTryReport, recordTryReportWrite } from '../../coordinator/src/log/transitions/recordTryReport.js';
import { branchRecord, txRecord } from '../support/records.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { xid } from './api.fixture.js';

// Two coordinators on one MySQL or PostgreSQL log: one records a failed try while the
// other takes a batched commit decision that includes the same transaction. The
// decision waits for the report's lock and must then see it, whatever plan the
// database picks for the batch's UPDATE (a primary-key lookup for one row, an index or
// full scan for many; InnoDB's semi-consistent read on a scan re-checks only the row).
const stores = (await storeKinds(['mysql', 'postgres'])).filter((k) => k !== 'sqlite');
const BATCHES = [1, 2, 40, 256];
const TABLES = [{ label: 'a few rows', filler: 0 }, { label: 'a few thousand rows', filler: 3000 }];

describe.each(stores)('a failed try against a batched commit on %s', (kind) => {
  describe.each(TABLES)('on a table of $label', ({ filler }) => {
    let db: FreshDatabase;
    let a: TransactionLog;
    let b: TransactionLog;

    beforeAll(async () => {
      db = await freshDatabase(kind, 'failedtry');
      a = await TransactionLog.open(db.url);
      b = await TransactionLog.open(db.url);
      await fill(a, filler);
    });
    afterAll(async () => {
      await a.close();
      await b.close();
      await db.drop();
    });

    /** `n` trying transactions with one registered branch `b1` each. */
    async function trying(n: number): Promise<string[]> {
      const xids = Array.from({ length: n }, () => xid('race'));
      await Promise.all(xids.map((x) => a.apply(insertTransactionWrite, { tx: txRecord(x), branches: [branchRecord(x, 'b1')] })));
      return xids;
    }

    const status = async (x: string) => (await a.knex('dtx_global_tx').where({ xid: x }).first('status')).status as string;

    /**
     * `report` runs on A and is not yet committed when B's batched decision over `xids`
     * starts; B's decision then waits for A's lock. A serialization failure (PostgreSQL)
     * is retried on a fresh transaction, as the write batcher does. B commits whatever
     * its statement changed, which is the worst case: the batcher would roll a partial
     * win back and replay the batch one by one.
     */
    async function race(report: (trx: Knex.Transaction) => Promise<unknown>, xids: string[]): Promise<boolean> {
      const held = await a.knex.transaction();
      try {
        await report(held);
        const decision = decideOnB(xids);
        await new Promise((r) => setTimeout(r, 300));
        await held.commit();
        return await decision;
      } finally {
        if (!held.isCompleted()) await held.rollback();
      }
    }

    async function decideOnB(xids: string[]): Promise<boolean> {
      for (let attempt = 1; ; attempt++) {
        const trx = await b.knex.transaction();
        try {
          const won = await markCommittingAll(trx, xids, Date.now(), Date.now() + 5000);
          await trx.commit();
          return won;
        } catch (err) {
          await trx.rollback().catch(() => undefined);
          if (!isRetryableConflict(err) || attempt >= 5) throw err;
        }
      }
    }

    test.each(BATCHES)('a batch of %i: the decision waits for the report and leaves the failed transaction trying', async (n) => {
      const xids = await trying(n);
      const target = xids[n - 1]!;
      const failed = { branchId: 'b1', ok: false, resultJson: null, error: 'refused' };
      expect(await race((trx) => recordTryReport(trx, target, failed, Date.now()), xids)).toBe(false);
      expect(await status(target)).toBe('trying');
      const others = await Promise.all(xids.slice(0, -1).map(status));
      expect(others.every((s) => s === 'committing')).toBe(true);
    });

    test.each(BATCHES)('a batch of %i: reports coalesced with others, the same', async (n) => {
      const xids = await trying(n);
      const target = xids[0]!;
      const [other] = await trying(1);
      const reports = [
        { xid: target, branchId: 'b1', ok: false, resultJson: null, error: 'refused', now: Date.now() },
        { xid: other!, branchId: 'b1', ok: true, resultJson: '{}', error: null, now: Date.now() },
      ];
      expect(await race((trx) => recordTryReportWrite.many(trx, reports), xids)).toBe(false);
      expect(await status(target)).toBe('trying');
    });

    test.each(BATCHES)('a batch of %i: a commit carrying a failed try result, the same', async (n) => {
      const xids = await trying(n);
      const target = xids[Math.floor(n / 2)]!;
      const failed = [{ branchId: 'b1', ok: false, resultJson: null, error: 'refused' }];
      expect(await race((trx) => recordCommitReports(trx, target, failed, Date.now()), xids)).toBe(false);
      expect(await status(target)).toBe('trying');
    });
  });
});

/** `count` finished and trying transactions with branches, so the planner sees a table of that size. */
async function fill(log: TransactionLog, count: number): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < count; i += 250) {
    const writes = Array.from({ length: Math.min(250, count - i) }, (_, k) => {
      const x = `filler-${i + k}-${Math.random().toString(36).slice(2, 8)}`;
      const finished = (i + k) % 3 !== 0;
      const tx = txRecord(x, { now, ...(finished ? { status: 'committed' as const, finishedAt: now, nextRetryAt: null } : {}) });
      return log.apply(insertTransactionWrite, { tx, branches: [branchRecord(x, 'b1', { status: finished ? 'confirmed' : 'registered' })] });
    });
    await Promise.all(writes);
  }
}
