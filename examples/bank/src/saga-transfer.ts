import { participantRef, type CoordinatorClient, type SagaOutcome } from '@dtx/participant-sdk';
import type { SagaWallet } from './saga-wallet.js';
import type { TransferOptions } from './transfer.js';

/**
 * Moves `amount` as a saga: debit at the source, then credit at the destination. A
 * refused credit (unknown account) or the deadline compensates the debit, so the money
 * goes back. Both sides are the saga wallet (`sagawallet.*`) that the example's TCC wallet also serves.
 */
export function sagaTransfer(client: CoordinatorClient, opts: TransferOptions): Promise<SagaOutcome> {
  const debit = participantRef<SagaWallet>(opts.from.walletUrl, 'sagawallet').sagaAction('debit');
  const credit = participantRef<SagaWallet>(opts.to.walletUrl, 'sagawallet').sagaAction('credit');
  const saga = client.saga({ timeoutMs: opts.timeoutMs ?? 30_000, meta: { kind: 'saga-transfer', amount: opts.amount } });
  saga.step(debit, { account: opts.from.account, amount: opts.amount }, { branchId: 'debit' });
  saga.step(credit, { account: opts.to.account, amount: opts.amount }, { branchId: 'credit' });
  return saga.run();
}
