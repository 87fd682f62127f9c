import type { CoordinatorClient } from '@dtx/participant-sdk';
import type { TxStatus, TxView } from '@dtx/protocol';
import { setTimeout as sleep } from 'node:timers/promises';

/** The shared helper: a coordinator on a fresh SQLite log, FAST settings, and an SDK client of it. */
export { startCoordinator, type Running as TestCoordinator } from '../../support/coordinator.js';

/** Polls the coordinator until the transaction reaches `status`, or fails with its last view. */
export async function waitForStatus(client: CoordinatorClient, xid: string, status: TxStatus, timeoutMs = 20_000): Promise<TxView> {
  const until = Date.now() + timeoutMs;
  let view = await client.get(xid);
  while (view.status !== status) {
    if (Date.now() > until) throw new Error(`transaction ${xid} is ${view.status}, not ${status}, after ${timeoutMs} ms: ${JSON.stringify(view)}`);
    await sleep(50);
    view = await client.get(xid);
  }
  return view;
}
