import type { Knex } from 'knex';

/** The wallet's business table; amounts are integers (BIGINT) of the smallest unit. */
export async function ensureAccountsTable(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('accounts')) return;
  try {
    await knex.schema.createTable('accounts', (t) => {
      t.string('id', 64).primary();
      t.bigInteger('balance').notNullable().defaultTo(0);
      t.bigInteger('frozen').notNullable().defaultTo(0);
      t.bigInteger('incoming').notNullable().defaultTo(0);
    });
  } catch (err) {
    // Two wallets starting on one database at once: the loser finds the table made.
    if (!(await knex.schema.hasTable('accounts'))) throw err;
  }
}
