import { backoffDelayMs } from '@dtx/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import { DtxSdkError } from '../errors.js';

/** MySQL ER_LOCK_WAIT_TIMEOUT / ER_LOCK_DEADLOCK; Postgres serialization_failure, deadlock_detected, lock_not_available. */
const MYSQL_ERRNOS = new Set([1205, 1213]);
const POSTGRES_CODES = new Set(['40001', '40P01', '55P03']);

/**
 * True when the database gave up on the transaction because of a lock conflict, which
 * rolled it back as a whole: running it again is safe and usually succeeds. Looks through
 * `cause`, so a handler that wraps the driver's error is still recognised; the SDK's own
 * errors (a rejection, a refused phase) are answers, never retried.
 */
export function isLockConflict(err: unknown): boolean {
  if (err instanceof DtxSdkError) return false;
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { errno, code } = e as { errno?: unknown; code?: unknown };
    if (typeof errno === 'number' && MYSQL_ERRNOS.has(errno)) return true;
    if (typeof code === 'string' && POSTGRES_CODES.has(code)) return true;
  }
  return false;
}

export interface LockConflictRetry {
  /** Runs of the transaction in all. @default 5 */
  attempts?: number;
  /** @default { baseMs: 10, maxMs: 200 } */
  backoff?: { baseMs: number; maxMs: number };
}

/** Runs `fn` (a whole local transaction) again after a lock conflict, with a short jittered pause. */
export async function retryLockConflicts<T>(fn: () => Promise<T>, options: LockConflictRetry = {}): Promise<T> {
  const { attempts = 5, backoff = { baseMs: 10, maxMs: 200 } } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isLockConflict(err)) throw err;
      await sleep(backoffDelayMs(backoff, attempt));
    }
  }
}
