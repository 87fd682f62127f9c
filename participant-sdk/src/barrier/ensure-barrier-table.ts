import { readFile } from 'node:fs/promises';
import type { Knex } from 'knex';
import { barrierDialect } from './dialect.js';

/** The DDL lives once, in this package's `sql/<dialect>/` (CREATE … IF NOT EXISTS). */
const SQL_DIR = new URL('../../sql/', import.meta.url);

/** Creates `dtx_barrier` in the participant's database if it is not there yet. */
export async function ensureBarrierTable(knex: Knex): Promise<void> {
  const dialect = barrierDialect(knex);
  const sql = await readFile(new URL(`${dialect}/0001_barrier.sql`, SQL_DIR), 'utf8');
  for (const statement of splitStatements(sql)) await knex.raw(statement);
}

/** The files hold plain DDL: statements end with `;` at the end of a line, comments start with `--`. */
function splitStatements(sql: string): string[] {
  const body = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return body
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
