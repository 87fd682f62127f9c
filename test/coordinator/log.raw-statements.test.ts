import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AttemptRecord } from '../../coordinator/src/log/attempt-records.js';
import { readAttempts } from '../../coordinator/src/log/queries/readAttempts.js';
import { readTx, readTxWithBranches } from '../../coordinator/src/log/queries/readTransaction.js';
import type { BranchRecord, TxRecord } from '../../coordinator/src/log/records.js';
import { TransactionLog } from '../../coordinator/src/log/transaction-log.js';
import { commitWrite } from '../../coordinator/src/log/transitions/decide.js';
import { finishRoundWrite } from '../../coordinator/src/log/transitions/finishRound.js';
import { insertTransactionWrite } from '../../coordinator/src/log/transitions/insertTransaction.js';
import { lockTrying } from '../../coordinator/src/log/transitions/lockTrying.js';
import { markCommittingAll } from '../../coordinator/src/log/transitions/markCommitting.js';
import { markFinishedAll } from '../../coordinator/src/log/transitions/markFinished.js';
import { recordCommitReportsAll, recordTryReport } from '../../coordinator/src/log/transitions/recordTryReport.js';
import { NotCoalesced } from '../../coordinator/src/log/write-batcher.js';
import { branchRecord, txRecord } from '../support/records.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { xid } from './api.fixture.js';

// The hot statements of begin, commit and finish are SQL text run through knex.raw
// (log/raw-statements.ts). What they write, and the affected-row counts their guards
// compare (a no-op lock counts the rows it matched), must be what the query builder gave.
const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

describe.each(stores)('raw hot statements on %s', (kind) => {
  let db: FreshDatabase;
  let log: TransactionLog;
  const now = Date.now();

  beforeAll(async () => {
    db = await freshDatabase(kind, 'rawstmts');
    log = await TransactionLog.open(db.url);
  });
  afterAll(async () => {
    await log.close();
    await db.drop();
  });

  const inTrx = <T>(f: (trx: Knex.Transaction) => Promise<T>): Promise<T> => log.knex.transaction(f);
  /** What `f` answers, in a database transaction then rolled back (as a batch that is not coalesced is). */
  async function rolledBack<T>(f: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    let out!: T;
    const undo = new Error('roll back');
    await log.knex.transaction(async (trx) => {
      out = await f(trx);
      throw undo;
    }).catch((err) => {
      if (err !== undo) throw err;
    });
    return out;
  }
  const branchesOf = (x: string): BranchRecord[] => [
    branchRecord(x, 'a', { now, seq: 1, payloadJson: '{"n":1}', tryUrl: 'http://127.0.0.1:1/t', timeoutMs: 1500 }),
    branchRecord(x, 'b', { now, seq: 2, action: null }),
  ];
  async function begin(n: number, over: (i: number) => Partial<TxRecord> = () => ({})): Promise<{ tx: TxRecord; branches: BranchRecord[] }[]> {
    const begins = Array.from({ length: n }, (_, i) => {
      const x = xid('raw');
      return { tx: txRecord(x, { now, ...over(i) }), branches: branchesOf(x) };
    });
    await inTrx((trx) => insertTransactionWrite.many(trx, begins));
    return begins;
  }
  const call = (x: string, branchId: string, over: Partial<AttemptRecord> = {}): AttemptRecord => ({
    xid: x, branchId, phase: 'try', attempt: 1, at: now, durationMs: 3.4, httpStatus: 200, ok: true, error: null, ...over,
  });

  test('a coalesced begin writes every column as given, read back by readTxWithBranches', async () => {
    const begins = await begin(3, (i) =>
      i === 1 ? { stuck: true, reason: 'why', metaJson: '{"k":"v"}', traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', traceState: 'a=1', finishedAt: now + 1 } : {},
    );
    for (const b of begins) expect(await log.read((k) => readTxWithBranches(k, b.tx.xid))).toEqual({ tx: b.tx, branches: b.branches });
    expect(await log.read((k) => readTx(k, 'no-such-xid'))).toBeNull();
  });

  test('a coalesced begin meeting an existing xid is not coalesced, and leaves nothing', async () => {
    const [existing] = await begin(1);
    const fresh = xid('raw');
    const again = [{ tx: txRecord(fresh, { now }), branches: [] }, existing!];
    await expect(inTrx((trx) => insertTransactionWrite.many(trx, again))).rejects.toBeInstanceOf(NotCoalesced);
    expect(await log.read((k) => readTx(k, fresh))).toBeNull();
  });

  test('lockTrying counts the rows it matched though it changes none; false once one is not trying', async () => {
    const xids = (await begin(3)).map((b) => b.tx.xid);
    expect(await inTrx((trx) => lockTrying(trx, xids))).toBe(true);
    expect(await inTrx((trx) => markCommittingAll(trx, [xids[0]!], now, now + 5000))).toBe(true);
    expect(await inTrx((trx) => lockTrying(trx, xids))).toBe(false);
    expect(await inTrx((trx) => lockTrying(trx, xids.slice(1)))).toBe(true);
  });

  test('a driven commit, coalesced: each branch its own result, every transaction committing under its lease', async () => {
    const begins = await begin(2);
    const [x, y] = begins.map((b) => b.tx.xid) as [string, string];
    const commits = [
      { xid: x, now, leaseMs: 5000, tries: [{ xid: x, branchId: 'a', resultJson: '{"r":"xa"}' }, { xid: x, branchId: 'b', resultJson: null }], calls: [call(x, 'a'), call(x, 'b', { httpStatus: null })] },
      { xid: y, now: now + 1, leaseMs: 4000, tries: [{ xid: y, branchId: 'a', resultJson: null }, { xid: y, branchId: 'b', resultJson: '"yb"' }], calls: [] },
    ];
    await inTrx((trx) => commitWrite.many(trx, commits));
    const rx = (await log.read((k) => readTxWithBranches(k, x)))!;
    const ry = (await log.read((k) => readTxWithBranches(k, y)))!;
    expect(rx.tx).toMatchObject({ status: 'committing', nextRetryAt: now + 1 + 5000, updatedAt: now + 1 });
    expect(ry.tx).toMatchObject({ status: 'committing', nextRetryAt: now + 1 + 5000, updatedAt: now + 1 });
    expect(rx.branches.map((b) => [b.status, b.tryResultJson, b.lastError, b.updatedAt])).toEqual([['tried', '{"r":"xa"}', null, now + 1], ['tried', null, null, now + 1]]);
    expect(ry.branches.map((b) => [b.status, b.tryResultJson])).toEqual([['tried', null], ['tried', '"yb"']]);
    expect(await log.read((k) => readAttempts(k, x))).toEqual([call(x, 'a', { durationMs: 3 }), call(x, 'b', { durationMs: 3, httpStatus: null })]);
    // decided already: the guard holds for none of them
    expect(await inTrx((trx) => markCommittingAll(trx, [x, y], now + 2, now + 9000))).toBe(false);
  });

  test('the commit guard: a failed try or a passed deadline refuses that transaction, and the batch is not all won', async () => {
    const [ok, failed, late] = (await begin(3, (i) => (i === 2 ? { deadline: now - 1 } : {}))).map((b) => b.tx.xid) as [string, string, string];
    await log.write((trx) => recordTryReport(trx, failed, { branchId: 'b', ok: false, resultJson: null, error: 'refused' }, now));
    expect(await rolledBack((trx) => markCommittingAll(trx, [ok, failed], now, now + 5000))).toBe(false);
    expect(await rolledBack((trx) => markCommittingAll(trx, [ok, late], now, now + 5000))).toBe(false);
    expect(await inTrx((trx) => markCommittingAll(trx, [ok], now, now + 5000))).toBe(true);
    expect((await log.read((k) => readTx(k, failed)))!.status).toBe('trying');
  });

  test("an initiator's commit reports: every branch given its outcome; refused when a transaction is not trying", async () => {
    const [x, y] = (await begin(2)).map((b) => b.tx.xid) as [string, string];
    const reports = [
      { xid: x, branchId: 'a', ok: true, resultJson: '{"r":1}', error: null },
      { xid: x, branchId: 'b', ok: true, resultJson: null, error: null },
      { xid: y, branchId: 'a', ok: true, resultJson: '2', error: null },
    ];
    expect(await inTrx((trx) => recordCommitReportsAll(trx, reports, now + 3))).toBe(true);
    const rx = (await log.read((k) => readTxWithBranches(k, x)))!;
    expect(rx.branches.map((b) => [b.status, b.tryResultJson, b.lastError, b.updatedAt])).toEqual([['tried', '{"r":1}', null, now + 3], ['tried', null, null, now + 3]]);
    expect((await log.read((k) => readTxWithBranches(k, y)))!.branches.map((b) => b.status)).toEqual(['tried', 'registered']);
    await inTrx((trx) => markCommittingAll(trx, [y], now, now + 5000));
    expect(await inTrx((trx) => recordCommitReportsAll(trx, reports, now + 4))).toBe(false);
  });

  test('a coalesced finish: branches done with their call counted, transactions final; a second finish moves none', async () => {
    const begins = await begin(2);
    const xids = begins.map((b) => b.tx.xid);
    await inTrx((trx) => markCommittingAll(trx, xids, now, now + 5000));
    const rounds = xids.map((x) => ({ xid: x, from: 'committing' as const, done: ['a', 'b'], calls: [call(x, 'a', { phase: 'confirm', ok: false, httpStatus: 503, error: 'busy' })], now: now + 7 }));
    expect(await inTrx((trx) => finishRoundWrite.many(trx, rounds))).toEqual([true, true]);
    for (const x of xids) {
      const r = (await log.read((k) => readTxWithBranches(k, x)))!;
      expect(r.tx).toMatchObject({ status: 'committed', nextRetryAt: null, stuck: false, finishedAt: now + 7, updatedAt: now + 7 });
      expect(r.branches.map((b) => [b.status, b.attempts, b.lastError, b.updatedAt])).toEqual([['confirmed', 1, null, now + 7], ['confirmed', 1, null, now + 7]]);
      expect(await log.read((k) => readAttempts(k, x))).toEqual([call(x, 'a', { phase: 'confirm', durationMs: 3, ok: false, httpStatus: 503, error: 'busy' })]);
    }
    expect(await inTrx((trx) => markFinishedAll(trx, xids, 'committing', now + 8))).toBe(false);
    await expect(inTrx((trx) => finishRoundWrite.many(trx, rounds))).rejects.toBeInstanceOf(NotCoalesced);
  });
});
