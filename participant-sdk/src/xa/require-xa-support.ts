import type { Knex } from 'knex';
import { barrierDialect } from '../barrier/dialect.js';
import { XaUnsupportedError } from '../errors.js';

/** SQLite has no XA: refused when the participant is registered, before any callback. */
export function requireXaDialect(knex: Knex, actions: readonly string[]): void {
  const dialect = barrierDialect(knex);
  if (dialect === 'sqlite') {
    throw new XaUnsupportedError(`@XaAction ${actions.join(', ')}: SQLite has no XA transactions; use MySQL or MariaDB, or make the action a @TccAction`);
  }
}

/**
 * What the server must allow, checked when the plugin starts. PostgreSQL prepares
 * transactions only with `max_prepared_transactions` > 0, and this SDK's XA mode runs on
 * MySQL / MariaDB only so far: on PostgreSQL it refuses to start either way, naming why.
 */
export async function requireXaServer(knex: Knex, actions: readonly string[]): Promise<void> {
  requireXaDialect(knex, actions);
  if (barrierDialect(knex) !== 'postgres') return;
  const res = (await knex.raw('SHOW max_prepared_transactions')) as { rows: { max_prepared_transactions: string }[] };
  const max = Number(res.rows[0]?.max_prepared_transactions ?? 0);
  if (max === 0) {
    throw new XaUnsupportedError(
      `@XaAction ${actions.join(', ')}: this PostgreSQL server has max_prepared_transactions = 0, so it cannot prepare transactions; set max_prepared_transactions > 0 (postgresql.conf, then restart)`,
    );
  }
  throw new XaUnsupportedError(`@XaAction ${actions.join(', ')}: XA mode on PostgreSQL (PREPARE TRANSACTION) is not built yet; use MySQL or MariaDB`);
}
