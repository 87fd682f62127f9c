import { backoffDelayMs, type Phase } from '@dtx/protocol';
import type { Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import { barrierRowsOf, barrierRow, insertBarrierRow, insertOrLockBarrierRow, keepResult, type BarrierKey } from '../barrier/insert-barrier-row.js';
import { isLockConflict } from '../barrier/retry-lock-conflicts.js';
import type { BarrierOutcome } from '../barrier/run-in-barrier.js';
import { BranchBusyError, PhaseConflictError, TrySuspendedError } from '../errors.js';
import { prepareXaBranch } from './prepare-xa-branch.js';
import { endXaBranch, isXaIdTaken, preparedTryOf, shortLockWait, xaIdIn } from './xa-statements.js';

export interface XaPhaseSettings {
  /** How long one statement waits for a row lock, in seconds (whole, ≥ 1). */
  lockWaitSeconds: number;
  /** How long a phase keeps retrying a branch whose rows stay locked, before answering 503. */
  busyForMs: number;
}

/**
 * One phase of an `@XaAction` branch (MySQL / MariaDB; on PostgreSQL BEGIN … PREPARE
 * TRANSACTION, COMMIT / ROLLBACK PREPARED, pg_prepared_xacts for XA RECOVER, the same
 * reasoning). The barrier's rows and the XA branch together keep PROTOCOL.md's
 * guarantees; why each crash point is safe:
 *
 * try = XA START; insert (try, try); business; keep result; XA END; XA PREPARE.
 *   The try row lives in the XA branch, so it exists (committed) exactly when the
 *   business change does. Crash before PREPARE: the server rolls the branch back with the
 *   session, nothing remains, a retried try runs again, a cancel is an empty rollback.
 *   Crash after PREPARE, before the answer: the branch stays prepared (also across a
 *   database restart); a retried try meets its id taken (or its locked try row), finds it in XA RECOVER
 *   and answers as a duplicate with the kept result (read uncommitted; PostgreSQL cannot
 *   read into a prepared transaction, so there the duplicate carries no result); confirm or cancel
 *   finish it. A try meeting a committed (try, cancel) row is suspended: 409, XA ROLLBACK.
 * confirm = XA COMMIT (XAER_NOTA tolerated), then a local transaction that inserts the
 *   confirm row. Crash between the two: the retry's XA COMMIT finds no branch, and the
 *   committed (try, try) row proves the commit happened, so the confirm row is written
 *   now. No try row at all means nothing was ever prepared (or the database lost it):
 *   409 PHASE_CONFLICT, retried and visible, never a silent 2xx.
 * cancel = XA ROLLBACK (XAER_NOTA tolerated), then a local transaction that inserts
 *   (try, cancel) and the cancel row. Crash between the two: the retry finds no branch
 *   and writes the rows, as for an empty rollback; a late try then meets (try, cancel).
 *   A try still running holds its try row's lock: the local insert gives up after
 *   `lockWaitSeconds` (never waiting on a prepared branch until its phase 2), and the
 *   cancel starts over with XA ROLLBACK, which succeeds once the try has prepared; if the
 *   try fails instead, its row vanishes and the insert goes through (empty rollback).
 * confirm and cancel rows are written outside the XA branch, in local transactions, so
 * they stay whatever becomes of it. A committed (try, try) row means confirmed: a cancel
 * then is a PHASE_CONFLICT, as a confirm is after a cancel.
 */
export async function runXaPhase<R>(
  knex: Knex,
  key: BarrierKey,
  phase: Phase,
  business: (trx: Knex.Transaction) => Promise<R>,
  settings: XaPhaseSettings,
): Promise<BarrierOutcome<R>> {
  const until = Date.now() + settings.busyForMs;
  for (let attempt = 1; ; attempt++) {
    try {
      if (phase === 'try') return await xaTry(knex, key, business, settings);
      if (phase === 'confirm') return await xaConfirm(knex, key, settings);
      return await xaCancel(knex, key, settings);
    } catch (err) {
      if (!isLockConflict(err) && !isXaIdTaken(err)) throw err;
      if (phase === 'try') {
        const prepared = await preparedTryOf(knex, key);
        if (prepared) return prepared.result === null ? { kind: 'duplicate' } : { kind: 'duplicate', result: JSON.parse(prepared.result) as R };
      }
      if (Date.now() >= until) throw new BranchBusyError(key.xid, key.branchId, phase);
      await sleep(backoffDelayMs({ baseMs: 20, maxMs: 250 }, attempt));
    }
  }
}

async function xaTry<R>(knex: Knex, key: BarrierKey, business: (trx: Knex.Transaction) => Promise<R>, s: XaPhaseSettings): Promise<BarrierOutcome<R>> {
  return prepareXaBranch<BarrierOutcome<R>>(knex, await xaIdIn(knex, key), s.lockWaitSeconds, async (trx) => {
    if (!(await insertBarrierRow(trx, key, 'try', 'try'))) {
      // A committed try row: a cancel's (suspension), or this try's own, committed by its confirm.
      const row = await barrierRow(trx, key, 'try');
      if (row?.reason === 'cancel') throw new TrySuspendedError(key.xid, key.branchId);
      const value: BarrierOutcome<R> = row?.result == null ? { kind: 'duplicate' } : { kind: 'duplicate', result: JSON.parse(row.result) as R };
      return { prepare: false, value };
    }
    const result = await business(trx);
    const json = result === undefined ? undefined : JSON.stringify(result);
    if (json !== undefined) await keepResult(trx, key, 'try', json);
    return { prepare: true, value: { kind: 'ran', result } };
  });
}

async function xaConfirm<R>(knex: Knex, key: BarrierKey, s: XaPhaseSettings): Promise<BarrierOutcome<R>> {
  const committed = await endXaBranch(knex, await xaIdIn(knex, key), 'commit');
  return withShortLockWait(knex, s, async (trx) => {
    await insertOrLockBarrierRow(trx, key, 'try', 'confirm');
    if (!(await insertBarrierRow(trx, key, 'confirm', 'confirm'))) return { kind: 'duplicate' };
    const rows = await barrierRowsOf(trx, key);
    if (rows.get('try') === 'cancel' || rows.has('cancel')) throw new PhaseConflictError(key.xid, key.branchId, 'confirm', 'it was cancelled');
    if (rows.get('try') !== 'try') throw new PhaseConflictError(key.xid, key.branchId, 'confirm', 'no XA branch of its try was prepared');
    return committed ? { kind: 'ran', result: undefined as R } : { kind: 'duplicate' };
  });
}

async function xaCancel<R>(knex: Knex, key: BarrierKey, s: XaPhaseSettings): Promise<BarrierOutcome<R>> {
  const rolledBack = await endXaBranch(knex, await xaIdIn(knex, key), 'rollback');
  return withShortLockWait(knex, s, async (trx) => {
    await insertOrLockBarrierRow(trx, key, 'try', 'cancel');
    if (!(await insertBarrierRow(trx, key, 'cancel', 'cancel'))) return { kind: 'duplicate' };
    const rows = await barrierRowsOf(trx, key);
    if (rows.get('try') === 'try' || rows.has('confirm')) throw new PhaseConflictError(key.xid, key.branchId, 'cancel', 'it was confirmed');
    return rolledBack ? { kind: 'ran', result: undefined as R } : { kind: 'empty_rollback' };
  });
}

/** A local transaction whose statements wait at most `lockWaitSeconds` for a row lock. */
async function withShortLockWait<T>(knex: Knex, s: XaPhaseSettings, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const wait = shortLockWait(knex, s.lockWaitSeconds);
  return knex.transaction(async (trx) => {
    await trx.raw(wait.set);
    try {
      return await fn(trx);
    } finally {
      // The pooled session goes back with the server's default.
      if (wait.reset) await trx.raw(wait.reset).catch(() => undefined);
    }
  });
}
