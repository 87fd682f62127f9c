import { backoffDelayMs, type Phase } from '@dtx/protocol';
import type { Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BarrierKey } from '../barrier/insert-barrier-row.js';
import { runInBarrier, type BarrierOutcome } from '../barrier/run-in-barrier.js';
import { FmtBranchWaitingError, FmtLockBusyError } from '../errors.js';
import { releaseLocks } from './global-locks.js';
import { fmtSqlOf } from './sql-rows.js';
import { installGate } from './statement-gate.js';
import { undoBranch } from './undo-branch.js';
import { deleteUndoRecords, insertUndoRecords, undoRecordsOfXid } from './undo-log.js';
import type { UndoRecord } from './undo-record.js';

export interface FmtPhaseSettings {
  /** How long a try retries a row held by another transaction's global lock before answering 503 FMT_LOCK_BUSY. */
  lockWaitMs: number;
  /** How long a cancel waits for a later branch of its transaction (same rows) to be undone first, before answering 503. */
  busyForMs: number;
  /** A write touching more rows is refused (422): undo records and locks stay bounded. */
  maxRowsPerStatement: number;
}

/**
 * One phase of an `@FmtAction` branch, each one local transaction with the barrier's row
 * (run-in-barrier.ts decides duplicates, empty rollbacks and suspension, unchanged):
 *
 * try = barrier try row; the method, every write of `ctx.trx` with its before image
 *   (locked), global locks, the write, its after image; the undo records; commit. Data,
 *   undo records, locks and the try row commit together or not at all, so a crash before
 *   the commit leaves nothing (the cancel is an empty rollback), and after it everything.
 * confirm = barrier confirm row; delete the branch's undo records; release the transaction's
 *   locks (it committed: none of its undo records will ever be applied).
 * cancel = barrier cancel row; the before images put back (undo-plan.ts), newest first;
 *   delete the undo records; release the locks. A dirty row rolls all of it back (409).
 * A cancel locks the transaction's undo records first (undoRecordsOfXid), so the cancels of one
 * transaction's branches run one at a time and a row shared by two of them stays locked until
 * both are undone.
 */
export async function runFmtPhase<R>(
  knex: Knex,
  key: BarrierKey,
  phase: Phase,
  business: (trx: Knex.Transaction) => Promise<R>,
  settings: FmtPhaseSettings,
): Promise<BarrierOutcome<R>> {
  if (phase === 'try') return retrying(FmtLockBusyError, settings.lockWaitMs, () => runInBarrier(knex, key, 'try', (trx) => fmtTry(trx, key, business, settings)));
  if (phase === 'confirm') return runInBarrier(knex, key, 'confirm', async (trx) => finishBranch(trx, key, 'confirm') as Promise<R>);
  return retrying(FmtBranchWaitingError, settings.busyForMs, () => runInBarrier(knex, key, 'cancel', async (trx) => finishBranch(trx, key, 'cancel') as Promise<R>));
}

async function fmtTry<R>(trx: Knex.Transaction, key: BarrierKey, business: (trx: Knex.Transaction) => Promise<R>, settings: FmtPhaseSettings): Promise<R> {
  const gate = installGate(trx, { mode: 'branch', key, maxRowsPerStatement: settings.maxRowsPerStatement });
  try {
    const result = await business(trx);
    gate.check();
    await insertUndoRecords(gate.db, key.xid, gate.records());
    return result;
  } finally {
    gate.remove();
  }
}

async function finishBranch(trx: Knex.Transaction, key: BarrierKey, phase: 'confirm' | 'cancel'): Promise<undefined> {
  const db = fmtSqlOf(trx);
  if (phase === 'confirm') {
    // Committed: no undo record of this transaction will ever be applied, so every lock it
    // holds here can go with its first confirm; the other branches' confirms find none left.
    await deleteUndoRecords(db, key);
    await releaseLocks(db, key.xid, new Set());
    return undefined;
  }
  const all = await undoRecordsOfXid(db, key.xid);
  if (all.length === 0) return undefined;
  const mine = all.filter((r) => r.branchId === key.branchId);
  const others = all.filter((r) => r.branchId !== key.branchId);
  const later = others.find((o) => mine.some((m) => o.id! > m.id! && overlaps(o, m)));
  if (later) throw new FmtBranchWaitingError(key.xid, key.branchId, later.branchId);
  await undoBranch(db, key, mine);
  if (mine.length > 0) await deleteUndoRecords(db, key);
  // Rolled back: a row another branch still has to undo stays locked until that branch's cancel.
  await releaseLocks(db, key.xid, new Set(others.flatMap((r) => r.rowKeys)));
  return undefined;
}

function overlaps(a: UndoRecord, b: UndoRecord): boolean {
  return a.rowKeys.some((k) => b.rowKeys.includes(k));
}

/** Runs `fn` again while it throws `retryOn`, with a short jittered pause, for at most `forMs`. */
async function retrying<T>(retryOn: new (...args: never[]) => Error, forMs: number, fn: () => Promise<T>): Promise<T> {
  const until = Date.now() + forMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof retryOn) || Date.now() >= until) throw err;
      await sleep(Math.min(backoffDelayMs({ baseMs: 10, maxMs: 100 }, attempt), Math.max(1, until - Date.now())));
    }
  }
}
