import type { SagaPhase } from '@dtx/protocol';
import type { Knex } from 'knex';
import { TrySuspendedError } from '../errors.js';
import { barrierRow, insertBarrierRow, insertOrLockBarrierRow, keepResult, type BarrierKey } from './insert-barrier-row.js';
import { retryLockConflicts } from './retry-lock-conflicts.js';
import type { BarrierOutcome } from './run-in-barrier.js';

/**
 * A saga step's business: the local transaction that holds its barrier row, and for a
 * compensation what the action returned, as its barrier row kept it (undefined for an action).
 */
export type SagaBusiness<R> = (trx: Knex.Transaction, actionResult: unknown) => Promise<R>;

/**
 * Runs a saga's action or compensation (PROTOCOL.md v1.2) inside a local transaction that
 * also writes its barrier row, the way runInBarrier runs a try or a cancel:
 * - action: insert `(action, action)`. Not inserted: a compensation wrote it (the action
 *   arrives after its compensate: TrySuspendedError, 409), or this action ran before (a
 *   duplicate, answered with the result it returned then).
 * - compensate: insert `(action, compensate)`, or lock the existing action row, then insert
 *   `(compensate)`. That second row not inserted: a duplicate. The action row written by
 *   this compensation: the action never ran (empty compensation), and the row now refuses
 *   it. Locking first makes a compensation that overtakes its action's still-open local
 *   transaction wait for it, and then undo it.
 * A deadlock or serialization failure runs the whole local transaction again (a few times).
 */
export async function runSagaPhase<R>(knex: Knex, key: BarrierKey, phase: SagaPhase, business: SagaBusiness<R>): Promise<BarrierOutcome<R>> {
  const run = phase === 'action' ? actionPhase : compensatePhase;
  return retryLockConflicts(() => knex.transaction((trx) => run(trx, key, business)));
}

async function actionPhase<R>(trx: Knex.Transaction, key: BarrierKey, business: SagaBusiness<R>): Promise<BarrierOutcome<R>> {
  if (!(await insertBarrierRow(trx, key, 'action', 'action'))) {
    const row = await barrierRow(trx, key, 'action');
    if (row?.reason === 'compensate') throw new TrySuspendedError(key.xid, key.branchId, 'action');
    return row?.result == null ? { kind: 'duplicate' } : { kind: 'duplicate', result: JSON.parse(row.result) as R };
  }
  const result = await business(trx, undefined);
  // kept with the action, so a repeated action and the compensation both get it
  if (result !== undefined) await keepResult(trx, key, 'action', JSON.stringify(result));
  return { kind: 'ran', result };
}

async function compensatePhase<R>(trx: Knex.Transaction, key: BarrierKey, business: SagaBusiness<R>): Promise<BarrierOutcome<R>> {
  const actionReason = await insertOrLockBarrierRow(trx, key, 'action', 'compensate');
  if (!(await insertBarrierRow(trx, key, 'compensate', 'compensate'))) return { kind: 'duplicate' };
  if (actionReason !== 'action') return { kind: 'empty_rollback' };
  // the action row is locked by this transaction: what it kept is the action's committed result
  const kept = (await barrierRow(trx, key, 'action'))?.result;
  return { kind: 'ran', result: await business(trx, kept == null ? undefined : JSON.parse(kept)) };
}
