import { Participant, SagaAction, type SagaContext } from '@dtx/participant-sdk';
import type { Knex } from 'knex';
import { creditBalance, debitBalance } from './balance-moves.js';
import { checkPayload, type MoveMoney } from './wallet.js';

/**
 * The wallet as saga actions: each step moves money at once, in the barrier's local
 * transaction, and its compensation moves it back. No reservation columns, and no
 * isolation either: between a debit and its compensation the money is simply gone, and
 * another transaction may see (and spend) a credited amount before it is taken back.
 */
@Participant('sagawallet')
export class SagaWallet {
  /** Takes `amount` off the balance; refused (409, the saga compensates) when it is short or the account unknown. */
  @SagaAction({ compensate: 'refundDebit' })
  async debit(ctx: SagaContext<MoveMoney>): Promise<{ debited: number }> {
    return debitBalance(ctx.trx, ctx.payload);
  }

  /** Puts back what the debit took: the amount its result names. */
  async refundDebit(ctx: SagaContext<MoveMoney, { debited: number }>): Promise<void> {
    const { account, amount } = checkPayload(ctx.payload);
    await addOrFail(ctx.trx, account, ctx.result?.debited ?? amount);
  }

  /** Adds `amount` to the balance; refused (409) for an unknown account. */
  @SagaAction({ compensate: 'reverseCredit' })
  async credit(ctx: SagaContext<MoveMoney>): Promise<{ credited: number }> {
    return creditBalance(ctx.trx, ctx.payload);
  }

  /** Takes back what the credit added. */
  async reverseCredit(ctx: SagaContext<MoveMoney, { credited: number }>): Promise<void> {
    const { account, amount } = checkPayload(ctx.payload);
    await addOrFail(ctx.trx, account, -(ctx.result?.credited ?? amount));
  }
}

/**
 * A compensation never drives a balance negative: if the credited money was spent
 * meanwhile, it fails (500) and the coordinator retries it, flagging the saga `stuck`
 * for an operator after a while, rather than inventing money.
 */
async function addOrFail(trx: Knex.Transaction, account: string, delta: number): Promise<void> {
  const moved = await trx('accounts').where('id', account).andWhere('balance', '>=', -delta).update({ balance: trx.raw('balance + ?', [delta]) });
  if (moved !== 1) throw new Error(`cannot move ${delta} on ${account}: unknown account or balance too low`);
}
