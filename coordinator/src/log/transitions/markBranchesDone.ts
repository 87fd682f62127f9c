import type { Knex } from 'knex';
import { branchSourcesOf } from '../../core/transitions.js';
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
