import { FmtAction, Participant, type TccContext } from '@dtx/participant-sdk';
import { creditBalance, debitBalance } from './balance-moves.js';
import type { MoveMoney } from './wallet.js';

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
    return debitBalance(ctx.trx, ctx.payload);
  }

  /** Adds `amount` to the balance; refused (409) for an unknown account. */
  @FmtAction()
  async credit(ctx: TccContext<MoveMoney>): Promise<{ credited: number }> {
    return creditBalance(ctx.trx, ctx.payload);
  }
}
