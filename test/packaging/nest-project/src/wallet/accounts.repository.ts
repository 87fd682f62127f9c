import { Injectable } from '@nestjs/common';
import { TccRejectedError } from '@dtx/participant-sdk';
import type { Knex } from 'knex';
import { Database } from './database';

type Column = 'balance' | 'frozen' | 'incoming';

/** The accounts table, injected into the participant and the controller. */
@Injectable()
export class AccountsRepository {
  constructor(private readonly db: Database) {}

  async find(id: string) {
    const row = await this.db.knex('accounts').where('id', id).first();
    return row && { id: row.id, balance: Number(row.balance), frozen: Number(row.frozen), incoming: Number(row.incoming) };
  }

  /** Moves `amount` of one account from one column to another in the barrier's transaction; refuses the try when the guard fails. */
  async move(trx: Knex.Transaction, id: string, amount: number, from: Column | null, to: Column | null, refusal: string) {
    let row = trx('accounts').where('id', id);
    if (from) row = row.andWhere(from, '>=', amount);
    const changes: Record<string, Knex.Raw> = {};
    if (from) changes[from] = trx.raw('?? - ?', [from, amount]);
    if (to) changes[to] = trx.raw('?? + ?', [to, amount]);
    if ((await row.update(changes)) !== 1) throw new TccRejectedError(refusal);
  }
}
