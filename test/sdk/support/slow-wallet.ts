import { Participant, TccAction, type TccContext } from '@dtx/participant-sdk';
import { setTimeout as sleep } from 'node:timers/promises';
import { Wallet, type MoveMoney } from '../../../examples/bank/src/wallet.js';

/**
 * The bank wallet with a pause inside each debit phase, while the barrier row is held,
 * so concurrent callbacks of one branch really overlap in the database.
 */
@Participant('wallet')
export class SlowWallet extends Wallet {
  constructor(private readonly maxPauseMs = 5) {
    super();
  }

  @TccAction({ confirm: 'confirmDebit', cancel: 'cancelDebit' })
  override async debit(ctx: TccContext<MoveMoney>): Promise<{ frozen: number }> {
    await sleep(Math.random() * this.maxPauseMs);
    return super.debit(ctx);
  }

  override async confirmDebit(ctx: TccContext<MoveMoney>): Promise<void> {
    await sleep(Math.random() * this.maxPauseMs);
    return super.confirmDebit(ctx);
  }

  override async cancelDebit(ctx: TccContext<MoveMoney>): Promise<void> {
    await sleep(Math.random() * this.maxPauseMs);
    return super.cancelDebit(ctx);
  }
}
