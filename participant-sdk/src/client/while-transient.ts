import { backoffDelayMs } from '@dtx/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinatorUnreachableError, StoreUnavailableError, TransactionUnfinishedError, type UnfinishedState } from './errors.js';

/**
 * Repeats an idempotent coordinator call while the coordinator is unreachable or its
 * store is down, until `untilMs` (at least once); every other error is final.
 */
export async function whileTransient<T>(untilMs: number, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || Date.now() >= untilMs) throw err;
      const retryAfter = err instanceof StoreUnavailableError ? err.retryAfterMs : null;
      await sleep(Math.min(backoffDelayMs({ baseMs: 200, maxMs: 5000 }, attempt, retryAfter), Math.max(0, untilMs - Date.now())));
    }
  }
}

export function isTransient(err: unknown): err is CoordinatorUnreachableError | StoreUnavailableError {
  return err instanceof CoordinatorUnreachableError || err instanceof StoreUnavailableError;
}

/** whileTransient, giving up past `untilMs` with TransactionUnfinishedError saying what that leaves the transaction in. */
export async function untilUnfinished<T>(xid: string, state: UnfinishedState, untilMs: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await whileTransient(untilMs, fn);
  } catch (err) {
    if (isTransient(err)) throw new TransactionUnfinishedError(xid, state, { cause: err });
    throw err;
  }
}
