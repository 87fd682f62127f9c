import { Injectable } from '@nestjs/common';
import { Participant, TccAction, type TccContext } from '@dtx/participant-sdk';
import { AccountsRepository } from './accounts.repository';

type Move = { account: string; amount: number };

/** The wallet's actions (`wallet.debit`, `wallet.credit`): a Nest provider with its repository injected. */
@Participant('wallet')
@Injectable()
export class WalletParticipant {
  constructor(private readonly accounts: AccountsRepository) {}

  @TccAction({ confirm: 'confirmDebit', cancel: 'cancelDebit' })
  async debit(ctx: TccContext<Move>) {
    await this.accounts.move(ctx.trx, ctx.payload.account, ctx.payload.amount, 'balance', 'frozen', 'insufficient balance');
    return { frozen: ctx.payload.amount };
  }
  async confirmDebit(ctx: TccContext<Move>) {
    await this.accounts.move(ctx.trx, ctx.payload.account, ctx.payload.amount, 'frozen', null, 'nothing frozen');
  }
  async cancelDebit(ctx: TccContext<Move>) {
    await this.accounts.move(ctx.trx, ctx.payload.account, ctx.payload.amount, 'frozen', 'balance', 'nothing frozen');
  }

  @TccAction({ confirm: 'confirmCredit', cancel: 'cancelCredit' })
  async credit(ctx: TccContext<Move>) {
    await this.accounts.move(ctx.trx, ctx.payload.account, ctx.payload.amount, null, 'incoming', 'unknown account');
  }
  async confirmCredit(ctx: TccContext<Move>) {
    await this.accounts.move(ctx.trx, ctx.payload.account, ctx.payload.amount, 'incoming', 'balance', 'nothing incoming');
  }
  async cancelCredit(ctx: TccContext<Move>) {
    await this.accounts.move(ctx.trx, ctx.payload.account, ctx.payload.amount, 'incoming', null, 'nothing incoming');
  }
}
