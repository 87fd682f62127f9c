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

/** markBranchesDone for the branches of many transactions, in one statement: (xid, branchId) pairs. */
export async function markBranchesDoneAll(trx: Knex.Transaction, branches: [xid: string, branchId: string][], status: 'confirmed' | 'cancelled', now: number): Promise<void> {
  for (const part of inStatements(branches)) {
    await trx(BRANCH_TABLE).whereIn(['xid', 'branch_id'], part).whereIn('status', branchSourcesOf(status)).update({ status, last_error: null, updated_at: now });
  }
}
