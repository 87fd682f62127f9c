import { messageCheckUrl, participantRef, type CoordinatorClient, type MessageOutcome } from '@dtx/participant-sdk';
import type { Knex } from 'knex';
import type { Mailer } from './mailer.js';

export interface OpenAccountOptions {
  account: string;
  balance: number;
  /** This wallet's URL, where the coordinator checks back (its plugin's `/dtx/_msg/check`). */
  walletUrl: string;
  /** The mailer that sends the welcome mail. */
  mailerUrl: string;
  /** How long the coordinator waits for the commit before checking back. @default 30000 */
  timeoutMs?: number;
}

/**
 * "Account opened → welcome mail" as a message: the account row and the promise of the
 * mail commit in one local transaction of the wallet's database. If the wallet dies after
 * that commit, the coordinator checks back and still sends the mail; if it dies before,
 * there is no account and no mail. Refused (the account exists) rolls back both.
 */
export function openAccount(client: CoordinatorClient, knex: Knex, opts: OpenAccountOptions): Promise<MessageOutcome<{ account: string }>> {
  const message = client.message({ checkUrl: messageCheckUrl(opts.walletUrl), timeoutMs: opts.timeoutMs ?? 30_000, meta: { kind: 'account-opened', account: opts.account } });
  message.step(participantRef<Mailer>(opts.mailerUrl, 'mailer').msgAction('welcome'), { account: opts.account }, { branchId: 'welcome' });
  return message.commitWith(knex, async (trx) => {
    await trx('accounts').insert({ id: opts.account, balance: opts.balance, frozen: 0, incoming: 0 });
    return { account: opts.account };
  });
}
