import { Participant, TccAction, TccRejectedError, type TccContext } from '@dtx/participant-sdk';

/** Payload of both wallet actions: a positive integer amount of the smallest currency unit. */
export interface MoveMoney {
  account: string;
  amount: number;
}

export interface Account {
  id: string;
  balance: number;
  frozen: number;
  incoming: number;
}

/** Upper bound of one amount, so sums of a few stay exact in a double. */
export const MAX_AMOUNT = 1_000_000_000_000;

/**
 * The wallet participant. Money moves only inside the barrier's local transaction
 * (`ctx.trx`), with guarded integer updates, so a reservation and its barrier row
 * commit or vanish together.
 */
@Participant('wallet')
export class Wallet {
  /** Reserves `amount`: balance → frozen. Refused (409) when the balance is short. */
  @TccAction({ confirm: 'confirmDebit', cancel: 'cancelDebit' })
  async debit(ctx: TccContext<MoveMoney>): Promise<{ frozen: number }> {
    const { account, amount } = checkPayload(ctx.payload);
    const moved = await ctx.trx('accounts')
      .where('id', account)
      .andWhere('balance', '>=', amount)
      .update({ balance: ctx.trx.raw('balance - ?', [amount]), frozen: ctx.trx.raw('frozen + ?', [amount]) });
    if (moved !== 1) {
      const exists = await ctx.trx('accounts').where('id', account).first('id');
      throw new TccRejectedError(exists ? `insufficient balance in ${account}` : `unknown account ${account}`, { account, amount });
    }
    return { frozen: amount };
  }

  async confirmDebit(ctx: TccContext<MoveMoney>): Promise<void> {
    const { account, amount } = checkPayload(ctx.payload);
    await moveOrFail(ctx, account, { frozen: ctx.trx.raw('frozen - ?', [amount]) }, 'frozen', amount);
  }

  async cancelDebit(ctx: TccContext<MoveMoney>): Promise<void> {
    const { account, amount } = checkPayload(ctx.payload);
    await moveOrFail(ctx, account, { frozen: ctx.trx.raw('frozen - ?', [amount]), balance: ctx.trx.raw('balance + ?', [amount]) }, 'frozen', amount);
  }

  /** Announces `amount` as incoming; refused (409) for an unknown account. */
  @TccAction({ confirm: 'confirmCredit', cancel: 'cancelCredit' })
  async credit(ctx: TccContext<MoveMoney>): Promise<{ incoming: number }> {
    const { account, amount } = checkPayload(ctx.payload);
    const moved = await ctx.trx('accounts').where('id', account).update({ incoming: ctx.trx.raw('incoming + ?', [amount]) });
    if (moved !== 1) throw new TccRejectedError(`unknown account ${account}`, { account, amount });
    return { incoming: amount };
  }

  async confirmCredit(ctx: TccContext<MoveMoney>): Promise<void> {
    const { account, amount } = checkPayload(ctx.payload);
    await moveOrFail(ctx, account, { incoming: ctx.trx.raw('incoming - ?', [amount]), balance: ctx.trx.raw('balance + ?', [amount]) }, 'incoming', amount);
  }

  async cancelCredit(ctx: TccContext<MoveMoney>): Promise<void> {
    const { account, amount } = checkPayload(ctx.payload);
    await moveOrFail(ctx, account, { incoming: ctx.trx.raw('incoming - ?', [amount]) }, 'incoming', amount);
  }
}

/**
 * Phase 2 only ever undoes or completes what its try reserved, so the reserved column
 * must hold at least `amount`. If not, something is badly wrong: fail (500, retried) and
 * let the barrier row roll back with it rather than drive a column negative.
 */
async function moveOrFail(ctx: TccContext<MoveMoney>, account: string, changes: Record<string, unknown>, reserved: 'frozen' | 'incoming', amount: number): Promise<void> {
  const moved = await ctx.trx('accounts').where('id', account).andWhere(reserved, '>=', amount).update(changes);
  if (moved !== 1) throw new Error(`${ctx.phase} of ${ctx.xid}/${ctx.branchId}: ${account} has less than ${amount} ${reserved}`);
}

/** Checks a wallet action's payload; a bad one is refused with 409. */
export function checkPayload(payload: unknown): MoveMoney {
  const p = payload as Partial<MoveMoney> | null;
  if (typeof p !== 'object' || p === null || typeof p.account !== 'string' || p.account.length === 0 || p.account.length > 64) {
    throw new TccRejectedError('payload.account must be a non-empty string of at most 64 characters');
  }
  if (!Number.isSafeInteger(p.amount) || (p.amount as number) <= 0 || (p.amount as number) > MAX_AMOUNT) {
    throw new TccRejectedError(`payload.amount must be a positive integer up to ${MAX_AMOUNT}`);
  }
  return { account: p.account, amount: p.amount as number };
}
