import type { Knex } from 'knex';
import { ATTEMPT_COLUMNS, ATTEMPT_TABLE, ATTEMPTS_KEPT_LATEST, attemptToRow, type AttemptRecord } from '../attempt-records.js';
import { inStatements } from '../multi-row.js';
import { insertInto } from '../raw-statements.js';

/** Prepared text, not the query builder: every decision and finish of a driven transaction inserts calls. */
const insertAttemptRows = insertInto(ATTEMPT_TABLE, ATTEMPT_COLUMNS);

/**
 * Adds participant calls to the attempt history: one multi-row INSERT, run inside the
 * log write that records what the calls meant (a round's outcome, a decision), so the
 * history costs no commit of its own. Called by those writes, never on its own.
 */
export async function recordAttempts(trx: Knex.Transaction, attempts: readonly AttemptRecord[]): Promise<void> {
  for (const part of inStatements(attempts.map(attemptToRow))) await insertAttemptRows(trx, part);
}

/**
 * After a round: drops the calls that fell out of a branch's window (all but its first
 * and latest ATTEMPTS_KEPT_LATEST of the phase). Only a call numbered past the window
 * runs the DELETE, so a branch that succeeds, or fails a few times, never does.
 */
export async function trimAttempts(trx: Knex.Transaction, latest: readonly Pick<AttemptRecord, 'xid' | 'branchId' | 'phase' | 'attempt'>[]): Promise<void> {
  for (const a of latest) {
    const below = a.attempt - ATTEMPTS_KEPT_LATEST;
    if (below <= 1) continue;
    await trx(ATTEMPT_TABLE).where({ xid: a.xid, branch_id: a.branchId, phase: a.phase }).andWhere('attempt', '>', 1).andWhere('attempt', '<=', below).del();
  }
}
