import { participantRef, type CoordinatorClient, type TransactionOutcome } from '@dtx/participant-sdk';
import type { Wallet } from './wallet.js';

/** One side of a transfer: a wallet's base URL and an account in it. */
export interface AccountAt {
  walletUrl: string;
  account: string;
  /** The wallet's participant name: `wallet` (TCC), `xawallet` (XA) or `fmtwallet` (FMT). All take the same payloads. @default 'wallet' */
  participant?: string;
}

/** `http://host:4001/alice` → wallet `http://host:4001`, account `alice`. */
export function parseAccountAt(value: string): AccountAt {
  const slash = value.lastIndexOf('/');
  const walletUrl = value.slice(0, slash);
  const account = decodeURIComponent(value.slice(slash + 1));
  if (slash < 0 || !/^https?:\/\/[^/]+/.test(walletUrl) || account.length === 0) {
    throw new Error(`expected WALLET_URL/ACCOUNT, e.g. http://127.0.0.1:4001/alice, got ${value}`);
  }
  return { walletUrl, account };
}

export interface TransferOptions {
  from: AccountAt;
  to: AccountAt;
  amount: number;
  /** @default 30000 */
  timeoutMs?: number;
}

/**
 * Moves `amount` as one global transaction: debit reserves it at the source, credit
 * announces it at the destination; commit completes both, rollback releases both.
 */
export function transfer(client: CoordinatorClient, opts: TransferOptions): Promise<TransactionOutcome<void>> {
  const debit = participantRef<Wallet>(opts.from.walletUrl, opts.from.participant ?? 'wallet').action('debit');
  const credit = participantRef<Wallet>(opts.to.walletUrl, opts.to.participant ?? 'wallet').action('credit');
  return client.transaction(
    async (tx) => {
      await tx.call(debit, { account: opts.from.account, amount: opts.amount }, { branchId: 'debit' });
      await tx.call(credit, { account: opts.to.account, amount: opts.amount }, { branchId: 'credit' });
    },
    { timeoutMs: opts.timeoutMs ?? 30_000, meta: { kind: 'transfer', amount: opts.amount } },
  );
}
