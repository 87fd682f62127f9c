import type { Knex } from 'knex';
import { branchSourcesOf, type DoneBranchStatus } from '../../core/transitions.js';
import { inStatements } from '../multi-row.js';
import { BRANCH_TABLE } from '../records.js';

/** Branches whose confirm (or cancel) succeeded, counting that call; a branch already done is left as it is. */
export function markBranchesDone(trx: Knex.Transaction, xid: string, branchIds: string[], status: DoneBranchStatus, now: number): Promise<void> {
  return markBranchesDoneAll(trx, branchIds.map((id): [string, string] => [xid, id]), status, now);
}

/** The same for the branches of many transactions, in one statement: (xid, branchId) pairs. */
export async function markBranchesDoneAll(trx: Knex.Transaction, branches: [xid: string, branchId: string][], status: DoneBranchStatus, now: number): Promise<void> {
  for (const part of inStatements(branches)) {
    await trx(BRANCH_TABLE).whereIn(['xid', 'branch_id'], part).whereIn('status', branchSourcesOf(status)).update({ status, attempts: trx.raw('attempts + 1'), last_error: null, updated_at: now });
  }
}
