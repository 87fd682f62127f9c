import { Participant, TccRejectedError, XaAction, type TccContext } from '@dtx/participant-sdk';
import { checkPayload, type MoveMoney } from './wallet.js';

/**
 * The wallet as an XA participant: one method per action, plain business SQL, no
 * reservation columns. The SDK runs each as the try inside an XA branch it prepares;
 * the coordinator's confirm commits it and its cancel rolls it back. The account's row
 * stays locked from the try until then.
 */
@Participant('xawallet')
export class XaWallet {
  /** Takes `amount` off the balance; refused (409) when the balance is short. */
  @XaAction()
  async debit(ctx: TccContext<MoveMoney>): Promise<{ debited: number }> {
    const { account, amount } = checkPayload(ctx.payload);
    const moved = await ctx.trx('accounts').where('id', account).andWhere('balance', '>=', amount).update({ balance: ctx.trx.raw('balance - ?', [amount]) });
    if (moved !== 1) {
      const exists = await ctx.trx('accounts').where('id', account).first('id');
      throw new TccRejectedError(exists ? `insufficient balance in ${account}` : `unknown account ${account}`, { account, amount });
    }
    return { debited: amount };
  }

  /** Adds `amount` to the balance; refused (409) for an unknown account. */
  @XaAction()
  async credit(ctx: TccContext<MoveMoney>): Promise<{ credited: number }> {
    const { account, amount } = checkPayload(ctx.payload);
    const moved = await ctx.trx('accounts').where('id', account).update({ balance: ctx.trx.raw('balance + ?', [amount]) });
    if (moved !== 1) throw new TccRejectedError(`unknown account ${account}`, { account, amount });
    return { credited: amount };
  }
}
