import type { Knex } from 'knex';
import { barrierDialect } from '../barrier/dialect.js';
import { FmtUnsupportedError } from '../errors.js';

/** SQLite is refused when the participant is registered, before any callback (as XA is). */
export function requireFmtDialect(knex: Knex, actions: readonly string[]): void {
  if (barrierDialect(knex) === 'sqlite') {
    throw new FmtUnsupportedError(`@FmtAction ${actions.join(', ')}: FMT needs MySQL, MariaDB or PostgreSQL (row locks and exact images); SQLite is not supported, make the action a @TccAction`);
  }
}
