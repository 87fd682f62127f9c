import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ensureBarrierTable, knexFromUrl } from '@dtx/participant-sdk';

/** The service's one database: the barrier rows and the accounts share its transactions. */
export const knex = knexFromUrl(process.env.DATABASE_URL);

@Injectable()
export class Database implements OnModuleInit, OnApplicationShutdown {
  readonly knex = knex;

  /** The barrier table and the accounts, alice with 100 and bob with 0 when new. */
  async onModuleInit() {
    await ensureBarrierTable(knex);
    if (await knex.schema.hasTable('accounts')) return;
    await knex.schema.createTable('accounts', (t) => {
      t.string('id', 64).primary();
      t.bigInteger('balance').notNullable();
      t.bigInteger('frozen').notNullable().defaultTo(0);
      t.bigInteger('incoming').notNullable().defaultTo(0);
    });
    await knex('accounts').insert([{ id: 'alice', balance: 100 }, { id: 'bob', balance: 0 }]);
  }

  onApplicationShutdown() {
    return knex.destroy();
  }
}
