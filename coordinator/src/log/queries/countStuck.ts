import type { Knex } from 'knex';
import { TX_TABLE } from '../records.js';

/** How many transactions are flagged stuck now, for the gauge (the (stuck, created_at) index answers it). */
export async function countStuck(db: Knex): Promise<number> {
  const row = (await db(TX_TABLE).where('stuck', 1).count({ n: '*' }).first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}
