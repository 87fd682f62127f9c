import type { Knex } from 'knex';
import { execute } from '../raw-statements.js';
import { TX_TABLE } from '../records.js';

const HOLD = `UPDATE ${TX_TABLE} SET drive_until = ? WHERE xid = ? AND status = 'trying' AND drive_until IS NOT NULL`;

/**
 * A repeated driven begin takes over the tries of a driven transaction that is still
 * trying and whose driver's hold has lapsed (its process died before deciding): true for
 * the one request that wins, so two repeats never both drive it.
 */
export async function takeOverTries(trx: Knex.Transaction, xid: string, now: number, until: number): Promise<boolean> {
  return (await execute(trx, `${HOLD} AND drive_until <= ?`, [until, xid, now])) === 1;
}

/** The driver keeps holding the tries it is still retrying; false once the transaction is no longer trying. */
export async function holdTries(trx: Knex.Transaction, xid: string, until: number): Promise<boolean> {
  return (await execute(trx, HOLD, [until, xid])) === 1;
}
