// The initiator side of the same user project: `node dist/transfer.js <coordinator> <wallet> <amount> [<credited wallet>]`.
import { CoordinatorClient, participantRef } from '@dtx/participant-sdk';
import type { Wallet } from './wallet-participant.js';

const [coordinatorUrl, walletUrl, amount, creditedUrl] = process.argv.slice(2);
const wallet = participantRef<Wallet>(walletUrl!, 'wallet');
const credited = participantRef<Wallet>(creditedUrl ?? walletUrl!, 'wallet');
const client = new CoordinatorClient({ url: coordinatorUrl! });
const outcome = await client.transaction(async (tx) => {
  await tx.call(wallet.action('debit'), { account: 'alice', amount: Number(amount) });
  await tx.call(credited.action('credit'), { account: 'bob', amount: Number(amount) });
}, { timeoutMs: 30_000 });
console.log(JSON.stringify({ xid: outcome.xid, status: outcome.status }));
