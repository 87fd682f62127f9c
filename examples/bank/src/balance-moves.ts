import { TccRejectedError } from '@dtx/participant-sdk';
import type { Knex } from 'knex';
import { checkPayload, type MoveMoney } from './wallet.js';

/**
 * The XA and FMT wallets' business step, plain SQL on `balance`: the SDK makes it
 * undoable (an XA branch, or FMT's images). Takes `amount` off the balance; refused (409)
 * when the balance is short or the account unknown.
 */
export async function debitBalance(trx: Knex.Transaction, payload: MoveMoney): Promise<{ debited: number }> {
  const { account, amount } = checkPayload(payload);
  const moved = await trx('accounts').where('id', account).andWhere('balance', '>=', amount).update({ balance: trx.raw('balance - ?', [amount]) });
  if (moved !== 1) {
    const exists = await trx('accounts').where('id', account).first('id');
    throw new TccRejectedError(exists ? `insufficient balance in ${account}` : `unknown account ${account}`, { account, amount });
  }
  return { debited: amount };
}

/** Adds `amount` to the balance; refused (409) for an unknown account. */
export async function creditBalance(trx: Knex.Transaction, payload: MoveMoney): Promise<{ credited: number }> {
  const { account, amount } = checkPayload(payload);
  const moved = await trx('accounts').where('id', account).update({ balance: trx.raw('balance + ?', [amount]) });
  if (moved !== 1) throw new TccRejectedError(`unknown account ${account}`, { account, amount });
  return { credited: amount };
}
