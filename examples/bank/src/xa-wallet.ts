import { Participant, XaAction, type TccContext } from '@dtx/participant-sdk';
import { creditBalance, debitBalance } from './balance-moves.js';
import type { MoveMoney } from './wallet.js';

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
    return debitBalance(ctx.trx, ctx.payload);
  }

  /** Adds `amount` to the balance; refused (409) for an unknown account. */
  @XaAction()
  async credit(ctx: TccContext<MoveMoney>): Promise<{ credited: number }> {
    return creditBalance(ctx.trx, ctx.payload);
  }
}
