// One bank-example wallet as its own process, for the soak to kill and restart, with the
// saga and message lanes' routes beside the TCC ones (saga-wallet.ts, msg-service.ts). It also
// records confirm/cancel calls of one branch that overlap in time (arrival times and
// dtx-attempt of both), which is how the soak sees two drivers of one transaction at once.
import { HEADER_ATTEMPT, HEADER_BRANCH_ID, HEADER_PHASE, HEADER_XID } from '@dtx/protocol';
import { appendFileSync } from 'node:fs';
import { createWalletServer } from '../examples/bank/src/wallet-server.js';
import { addMsgRoutes } from './msg-service.js';
import { addSagaRoutes, SAGA_ACCOUNTS } from './saga-wallet.js';

export interface PhaseCall {
  phase: string;
  attempt: number;
  at: number;
}

/** One line of the overlap log: `second` arrived while `first` was still being handled. */
export interface Overlap {
  branch: string;
  first: PhaseCall;
  second: PhaseCall;
}

const port = Number(process.env.SOAK_WALLET_PORT);
const overlapLog = process.env.SOAK_OVERLAP_LOG!;
const wallet = createWalletServer({ databaseUrl: process.env.SOAK_WALLET_DATABASE_URL!, port });

const inFlight = new Map<string, Map<string, PhaseCall>>();

wallet.app.addHook('onRequest', async (req) => {
  const phase = req.headers[HEADER_PHASE];
  if (phase !== 'confirm' && phase !== 'cancel') return;
  const branch = `${String(req.headers[HEADER_XID])}/${String(req.headers[HEADER_BRANCH_ID])}`;
  const call: PhaseCall = { phase, attempt: Number(req.headers[HEADER_ATTEMPT]), at: Date.now() };
  const calls = inFlight.get(branch) ?? new Map<string, PhaseCall>();
  for (const first of calls.values()) appendFileSync(overlapLog, `${JSON.stringify({ branch, first, second: call } satisfies Overlap)}\n`);
  calls.set(req.id, call);
  inFlight.set(branch, calls);
});

// onSend runs once the handler is done, whether or not the caller still listens.
wallet.app.addHook('onSend', async (req, _reply, payload) => {
  const branch = `${String(req.headers[HEADER_XID])}/${String(req.headers[HEADER_BRANCH_ID])}`;
  const calls = inFlight.get(branch);
  if (calls?.delete(req.id) && calls.size === 0) inFlight.delete(branch);
  return payload;
});

await addSagaRoutes(wallet.app, wallet.knex, SAGA_ACCOUNTS[process.env.SOAK_WALLET_NAME as 'a' | 'b']);
await addMsgRoutes(wallet.app, wallet.knex);
await wallet.start();
console.log(JSON.stringify({ wallet: wallet.url }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void wallet.close().then(() => process.exit(0)));
