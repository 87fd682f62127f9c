import { FmtAction, Participant, TccRejectedError, type TccContext } from '@dtx/participant-sdk';
import { checkPayload, type MoveMoney } from './wallet.js';

/**
 * The wallet as an FMT participant: one method per action, plain business SQL, no
 * reservation columns, no confirm or cancel. Each try commits at once; the SDK keeps the
 * rows' before images and global locks until the coordinator's confirm (forget them) or
 * cancel (put the balance back exactly). Others may read the changed balance before the
 * decision; no other FMT transaction can write the row until then.
 */
@Participant('fmtwallet')
export class FmtWallet {
  /** Takes `amount` off the balance; refused (409) when the balance is short. */
  @FmtAction()
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
  @FmtAction()
  async credit(ctx: TccContext<MoveMoney>): Promise<{ credited: number }> {
    const { account, amount } = checkPayload(ctx.payload);
    const moved = await ctx.trx('accounts').where('id', account).update({ balance: ctx.trx.raw('balance + ?', [amount]) });
    if (moved !== 1) throw new TccRejectedError(`unknown account ${account}`, { account, amount });
    return { credited: amount };
  }
}
