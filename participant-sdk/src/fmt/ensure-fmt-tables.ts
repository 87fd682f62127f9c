import type { Knex } from 'knex';
import { ensureBarrierTable } from '../barrier/ensure-barrier-table.js';
import { applySqlFiles } from '../database/apply-sql-files.js';
import { fmtDialectOf } from './sql-rows.js';

/**
 * Creates what FMT needs beside the barrier (`dtx_fmt_undo`, `dtx_fmt_lock`) from this
 * package's `sql/<dialect>/NNNN_fmt*.sql`, and the barrier itself: idempotent, and safe
 * from two processes at once (applySqlFiles). MySQL / MariaDB / PostgreSQL only.
 */
export async function ensureFmtTables(knex: Knex): Promise<void> {
  fmtDialectOf(knex);
  await ensureBarrierTable(knex);
  await applySqlFiles(knex, 'fmt');
}
