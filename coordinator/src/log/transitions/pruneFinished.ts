import type { Knex } from 'knex';
import { FINAL_STATUSES } from '../../core/transitions.js';
import { ATTEMPT_TABLE } from '../attempt-records.js';
import { BRANCH_TABLE, TX_TABLE } from '../records.js';

/** Retention: deletes up to `batch` finished transactions created before `olderThan`, with their branches and attempt history; never an unfinished one. */
export async function pruneFinished(trx: Knex.Transaction, olderThan: number, batch: number): Promise<number> {
  const xids = (
    await trx(TX_TABLE)
      .select('xid')
      .whereIn('status', FINAL_STATUSES)
      .andWhere('created_at', '<', olderThan)
      .limit(batch)
  ).map((r: { xid: string }) => r.xid);
  if (xids.length === 0) return 0;
  await trx(ATTEMPT_TABLE).whereIn('xid', xids).del();
  await trx(BRANCH_TABLE).whereIn('xid', xids).del();
  return trx(TX_TABLE).whereIn('xid', xids).whereIn('status', FINAL_STATUSES).del();
}
