import type { Knex } from 'knex';
import { applySqlFiles } from '../database/apply-sql-files.js';

/**
 * Creates `dtx_barrier` in the participant's database, or brings an existing one up to
 * date (the `NNNN_barrier*.sql` files, see applySqlFiles). A table created by 0001 alone
 * (before the migrations table existed) gets 0001 again, a no-op (CREATE … IF NOT
 * EXISTS), and then the rest.
 */
export async function ensureBarrierTable(knex: Knex): Promise<void> {
  await applySqlFiles(knex, 'barrier');
}
