import type { Phase } from '@dtx/protocol';
import type { Knex } from 'knex';
import { PhaseConflictError, TrySuspendedError } from '../errors.js';
import { barrierDialect } from './dialect.js';
import {
  barrierRowsOf,
  barrierRow,
  insertBarrierRow,
  insertBarrierRowUnless,
  insertConfirmRowIfTried,
  insertOrLockBarrierRow,
  keepResult,
  type BarrierKey,
} from './insert-barrier-row.js';
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
 * Statements before the business step, on the usual path: a try sends one (its insert;
 * a second after the business step keeps its result), a confirm or cancel two (lock the
 * branch's `try` row, then insert its own row unless the other phase's exists), and a
 * confirm on SQLite one. Only the unusual answers (a duplicate, a refusal) read the
 * branch's rows to say which it is. Confirm and cancel both start from the `try` row, so
 * two of them on one branch run one after the other and the second sees what the first
 * wrote. A deadlock or serialization failure runs the whole local transaction again (a few times).
 *
 * Keep `business` short and local: the barrier row stays locked until it returns.
 */
export async function runInBarrier<R>(
  knex: Knex,
  key: BarrierKey,
  phase: Phase,
  business: (trx: Knex.Transaction) => Promise<R>,
): Promise<BarrierOutcome<R>> {
  const run = { try: tryPhase, confirm: confirmPhase, cancel: cancelPhase }[phase];
  return retryLockConflicts(() => knex.transaction((trx) => run(trx, key, business)));
}

type PhaseRun = <R>(trx: Knex.Transaction, key: BarrierKey, business: (trx: Knex.Transaction) => Promise<R>) => Promise<BarrierOutcome<R>>;

const tryPhase: PhaseRun = async (trx, key, business) => {
  if (!(await insertBarrierRow(trx, key, 'try', 'try'))) {
    // The try row exists: written by a cancel (suspension) or by this try before (duplicate).
    const row = await barrierRow(trx, key, 'try');
    if (row?.reason === 'cancel') throw new TrySuspendedError(key.xid, key.branchId);
    return row?.result == null ? { kind: 'duplicate' } : { kind: 'duplicate', result: JSON.parse(row.result) };
  }
  const result = await business(trx);
  // Kept in the same local transaction, so a repeated try gets it whenever the try committed.
  // A statement of its own: the insert above had to come first (it decides whether the
  // business step runs at all), and the result exists only once that step has returned.
  const json = result === undefined ? undefined : JSON.stringify(result);
  if (json !== undefined) await keepResult(trx, key, 'try', json);
  return { kind: 'ran', result };
};

const confirmPhase: PhaseRun = async (trx, key, business) => {
  if (barrierDialect(trx) === 'sqlite') {
    // One writer at a time: check and insert in one statement (insertConfirmRowIfTried).
    if (!(await insertConfirmRowIfTried(trx, key))) return whyNotConfirmed(trx, key);
    return { kind: 'ran', result: await business(trx) };
  }
  // Lock the try row first, as a cancel does, so the two queue on it. Beyond the
  // protocol's table: a (try, confirm) row this inserts means the try never ran, and is
  // refused, so it never commits.
  const tryReason = await insertOrLockBarrierRow(trx, key, 'try', 'confirm');
  if (tryReason === 'cancel') throw new PhaseConflictError(key.xid, key.branchId, 'confirm', 'it was cancelled');
  if (tryReason !== 'try') throw new PhaseConflictError(key.xid, key.branchId, 'confirm', 'its try never ran');
  // A confirm for a cancelled branch would complete a reservation that is not there (someone else's money).
  if (!(await insertBarrierRowUnless(trx, key, 'confirm', 'confirm', 'cancel'))) return whyNotConfirmed(trx, key);
  return { kind: 'ran', result: await business(trx) };
};

/** No confirm row was inserted: one was there (duplicate), or the branch is not confirmable. */
async function whyNotConfirmed<R>(trx: Knex.Transaction, key: BarrierKey): Promise<BarrierOutcome<R>> {
  const rows = await barrierRowsOf(trx, key);
  if (rows.has('confirm')) return { kind: 'duplicate' };
  if (rows.get('try') === 'cancel' || rows.has('cancel')) throw new PhaseConflictError(key.xid, key.branchId, 'confirm', 'it was cancelled');
  throw new PhaseConflictError(key.xid, key.branchId, 'confirm', 'its try never ran');
}

const cancelPhase: PhaseRun = async (trx, key, business) => {
  // In the protocol's order: the `try` row first. If this cancel writes it, the try never
  // ran (empty rollback) and the row now refuses a late try.
  const tryReason = await insertOrLockBarrierRow(trx, key, 'try', 'cancel');
  // Beyond the protocol's table, as for confirm: never undo a branch that was confirmed.
  if (!(await insertBarrierRowUnless(trx, key, 'cancel', 'cancel', 'confirm'))) {
    if ((await barrierRowsOf(trx, key)).has('cancel')) return { kind: 'duplicate' };
    throw new PhaseConflictError(key.xid, key.branchId, 'cancel', 'it was confirmed');
  }
  // This cancel row is the branch's first, so a `try` row with reason cancel is the one
  // just written: the try never ran. Only a try's own row means there is something to undo.
  if (tryReason !== 'try') return { kind: 'empty_rollback' };
  return { kind: 'ran', result: await business(trx) };
};
