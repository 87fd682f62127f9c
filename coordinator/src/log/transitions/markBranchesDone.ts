import type { Knex } from 'knex';
import { branchSourcesOf } from '../../core/transitions.js';
import { inStatements } from '../multi-row.js';
import { BRANCH_TABLE } from '../records.js';

/** Branches whose confirm (or cancel) succeeded; a branch already done is left as it is. */
export async function markBranchesDone(
  trx: Knex.Transaction,
  xid: string,
  branchIds: string[],
  status: 'confirmed' | 'cancelled',
  now: number,
): Promise<number> {
  if (branchIds.length === 0) return 0;
  return trx(BRANCH_TABLE)
    .where({ xid })
    .whereIn('branch_id', branchIds)
    .whereIn('status', branchSourcesOf(status))
    .update({ status, last_error: null, updated_at: now });
}

/** Every branch of these transactions that is not done yet is now done: the end of their last round, in one statement. */
export async function markAllBranchesDone(trx: Knex.Transaction, xids: string[], status: 'confirmed' | 'cancelled', now: number): Promise<void> {
  for (const part of inStatements(xids)) {
    await trx(BRANCH_TABLE).whereIn('xid', part).whereIn('status', branchSourcesOf(status)).update({ status, last_error: null, updated_at: now });
  }
}
