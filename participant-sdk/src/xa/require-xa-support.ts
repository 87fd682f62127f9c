import type { Knex } from 'knex';
import { barrierDialect } from '../barrier/dialect.js';
import { XaUnsupportedError } from '../errors.js';

/** SQLite has no XA: refused when the participant is registered, before any callback. */
export function requireXaDialect(knex: Knex, actions: readonly string[]): void {
  const dialect = barrierDialect(knex);
  if (dialect === 'sqlite') {
    throw new XaUnsupportedError(`@XaAction ${actions.join(', ')}: SQLite has no XA transactions; use MySQL, MariaDB or PostgreSQL, or make the action a @TccAction`);
  }
}

/**
 * What the server must allow, checked when the plugin starts. PostgreSQL prepares
 * transactions only with `max_prepared_transactions` > 0: with 0 it refuses to start,
 * naming the setting.
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
}
