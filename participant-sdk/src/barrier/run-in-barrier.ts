import type { Phase } from '@dtx/protocol';
import type { Knex } from 'knex';
import { PhaseConflictError, TrySuspendedError } from '../errors.js';
import { barrierRowsOf, barrierTryRow, insertBarrierRow, insertOrLockBarrierRow, keepTryResult, type BarrierKey } from './insert-barrier-row.js';
import { retryLockConflicts } from './retry-lock-conflicts.js';

export type BarrierOutcome<R> =
  /** The business step ran and committed together with the barrier row. */
  | { kind: 'ran'; result: R }
  /**
   * This phase already ran for the branch: nothing was done again. A repeated try carries
   * what the first one returned (absent for a try that returned nothing, or that ran before
   * the barrier kept results).
   */
  | { kind: 'duplicate'; result?: R }
  /** A cancel for a try that never ran: nothing to undo, and the late try is now blocked. */
  | { kind: 'empty_rollback' };

/**
 * Runs one phase of one branch inside a local transaction that also writes its barrier
 * row (PROTOCOL.md "Participant barrier table"). The business step gets that transaction;
 * if it throws, the barrier row goes with it, so a failed try leaves nothing behind and
 * its cancel becomes an empty rollback. A try arriving after its cancel throws
 * TrySuspendedError. A confirm without a successful try, or confirm and cancel of one
 * branch, throw PhaseConflictError and write nothing: the coordinator never sends those,
 * so a caller that does is refused rather than allowed to move money twice.
 *
 * Confirm and cancel both start by inserting-or-locking the branch's `try` row, so two of
 * them on one branch run one after the other and the second sees what the first wrote.
 * A deadlock or serialization failure runs the whole local transaction again (a few times).
 *
 * Keep `business` short and local: the barrier row stays locked until it returns.
 */
export async function runInBarrier<R>(
  knex: Knex,
  key: BarrierKey,
  phase: Phase,
  business: (trx: Knex.Transaction) => Promise<R>,
): Promise<BarrierOutcome<R>> {
  return retryLockConflicts(() => knex.transaction((trx) => runPhase(trx, key, phase, business)));
}

async function runPhase<R>(trx: Knex.Transaction, key: BarrierKey, phase: Phase, business: (trx: Knex.Transaction) => Promise<R>): Promise<BarrierOutcome<R>> {
  switch (phase) {
    case 'try': {
      if (!(await insertBarrierRow(trx, key, 'try', 'try'))) {
        // The try row exists: written by a cancel (suspension) or by this try before (duplicate).
        const row = await barrierTryRow(trx, key);
        if (row?.reason === 'cancel') throw new TrySuspendedError(key.xid, key.branchId);
        return row?.result == null ? { kind: 'duplicate' } : { kind: 'duplicate', result: JSON.parse(row.result) as R };
      }
      const result = await business(trx);
      // Kept in the same local transaction, so a repeated try gets it whenever the try committed.
      const json = result === undefined ? undefined : JSON.stringify(result);
      if (json !== undefined) await keepTryResult(trx, key, json);
      return { kind: 'ran', result };
    }
    case 'confirm': {
      // Beyond the protocol's table: a (try, confirm) row this inserts means the try never
      // ran, and is refused below, so it never commits.
      await insertOrLockBarrierRow(trx, key, 'try', 'confirm');
      if (!(await insertBarrierRow(trx, key, 'confirm', 'confirm'))) return { kind: 'duplicate' };
      // A confirm for a try that never ran, or for a cancelled branch, would complete a
      // reservation that is not there (someone else's money).
      const rows = await barrierRowsOf(trx, key);
      if (rows.get('try') === 'cancel' || rows.has('cancel')) throw new PhaseConflictError(key.xid, key.branchId, 'confirm', 'it was cancelled');
      if (rows.get('try') !== 'try') throw new PhaseConflictError(key.xid, key.branchId, 'confirm', 'its try never ran');
      return { kind: 'ran', result: await business(trx) };
    }
    case 'cancel': {
      // In the protocol's order: the `try` row first. If this cancel wrote it, the try never
      // ran (empty rollback) and the row now refuses a late try.
      await insertOrLockBarrierRow(trx, key, 'try', 'cancel');
      if (!(await insertBarrierRow(trx, key, 'cancel', 'cancel'))) return { kind: 'duplicate' };
      // No cancel row existed, so a `try` row with reason cancel is the one just written.
      const rows = await barrierRowsOf(trx, key);
      if (rows.get('try') === 'cancel') return { kind: 'empty_rollback' };
      // Beyond the protocol's table, as for confirm: never undo a branch that was confirmed.
      if (rows.has('confirm')) throw new PhaseConflictError(key.xid, key.branchId, 'cancel', 'it was confirmed');
      return { kind: 'ran', result: await business(trx) };
    }
  }
}
