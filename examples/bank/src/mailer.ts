import { MsgAction, Participant, TccRejectedError, type SagaContext } from '@dtx/participant-sdk';
import type { Knex } from 'knex';

/** Payload of the welcome message: the account that was opened. */
export interface Welcome {
  account: string;
}

export interface Mail {
  id: string;
  account: string;
  kind: string;
}

/**
 * The mailer participant: a message step's action (`mailer.welcome`), delivered once the
 * wallet that opened an account committed it. The mail is queued in the barrier's local
 * transaction, so a repeated delivery queues nothing twice.
 */
@Participant('mailer')
export class Mailer {
  @MsgAction()
  async welcome(ctx: SagaContext<Welcome>): Promise<{ mailId: string }> {
    const account = ctx.payload?.account;
    // a message is delivered until it succeeds: a payload that can never succeed is the producer's bug, said plainly
    if (typeof account !== 'string' || account.length === 0) throw new TccRejectedError('payload.account must be a non-empty string');
    const id = `${ctx.xid}/${ctx.branchId}`;
    await ctx.trx('mails').insert({ id, account, kind: 'welcome' });
    return { mailId: id };
  }
}

/** The mailer's queue of mails to send. */
export async function ensureMailsTable(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('mails')) return;
  try {
    await knex.schema.createTable('mails', (t) => {
      t.string('id', 200).primary();
      t.string('account', 64).notNullable().index();
      t.string('kind', 32).notNullable();
    });
  } catch (err) {
    if (!(await knex.schema.hasTable('mails'))) throw err;
  }
}
