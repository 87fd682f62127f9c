import type { Knex } from 'knex';
import { execute } from '../raw-statements.js';
import { TX_TABLE } from '../records.js';

// lengthens, never shortens: two steps running side by side each hold the saga as long as their call needs
const HOLD =
  `UPDATE ${TX_TABLE} SET next_retry_at = CASE WHEN next_retry_at IS NULL OR next_retry_at < ? THEN ? ELSE next_retry_at END, updated_at = ?` +
  ` WHERE xid = ? AND status = 'trying' AND tx_mode = 'saga'`;

/**
 * The driver of a saga's forward path holds it until `until` (its next_retry_at, the
 * lease recovery waits out before resuming it). Also the forward path's guard: false
 * once the saga is no longer trying (a rollback request or recovery decided it), and
 * then the driver stops. Being an UPDATE of the saga's row, it also serialises the
 * step writes that follow it with any concurrent decision.
 */
export async function holdSaga(trx: Knex.Transaction, xid: string, until: number, now: number): Promise<boolean> {
  return (await execute(trx, HOLD, [until, until, now, xid])) === 1;
}
