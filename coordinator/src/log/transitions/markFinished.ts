import type { Knex } from 'knex';
import { finalStatus, type DecidedStatus } from '../../core/transitions.js';
import { inStatements } from '../multi-row.js';
import { cachedText, execute, list } from '../raw-statements.js';
import { TX_TABLE } from '../records.js';

/** Prepared text (raw-statements.ts), not the query builder: every transaction's end runs it. */
const setFinished = cachedText(
  (n: number) => `UPDATE ${TX_TABLE} SET status = ?, next_retry_at = NULL, stuck = 0, finished_at = ?, updated_at = ? WHERE xid IN (${list(n)}) AND status = ?`,
);

/** `committing → committed` or `rolling_back → rolled_back`, once every branch is done. */
export function markFinished(trx: Knex.Transaction, xid: string, from: DecidedStatus, now: number): Promise<boolean> {
  return markFinishedAll(trx, [xid], from, now);
}

/** The same for many transactions at once (group commit); true only if every one of them moved. */
export async function markFinishedAll(trx: Knex.Transaction, xids: string[], from: DecidedStatus, now: number): Promise<boolean> {
  let moved = 0;
  for (const part of inStatements(xids)) {
    moved += await execute(trx, setFinished(part.length), [finalStatus(from), now, now, ...part, from]);
  }
  return moved === xids.length;
}
