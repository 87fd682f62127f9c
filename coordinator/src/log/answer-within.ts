import { settleWithin } from '../settle-within.js';

/**
 * How long the log waits for the database to answer one transaction or read. A server that
 * is frozen or cut off by the network accepts the bytes and never replies; without a limit
 * every API request would wait on it (and on the pool it holds) for as long as that lasts.
 * Writes are committed one batch at a time, so a write waits at most twice this: the batch
 * ahead of it, then its own. That stays under the SDK's default request timeout (10 s).
 */
export const STORE_ANSWER_MS = 3000;

/**
 * How long the database itself lets one log statement run: a little above STORE_ANSWER_MS,
 * so a batch the coordinator stopped waiting for (a lock held elsewhere, a slow disk) is
 * cancelled by the server instead of holding a pool connection on and on. Set per session
 * (database.ts, postgres.ts); migrations lift it for their own transaction (migrate.ts).
 */
export const STATEMENT_TIMEOUT_MS = STORE_ANSWER_MS + 1000;

/** The database gave no answer in time. What was sent may still take effect later, so the caller knows nothing either way. */
export class NoAnswerError extends Error {
  constructor(ms: number) {
    super(`the database gave no answer in ${ms} ms`);
    this.name = 'NoAnswerError';
  }
}

const TIMED_OUT = Symbol('timed out');

/** The operation's outcome, or NoAnswerError after `ms`. */
export async function answerWithin<T>(operation: Promise<T>, ms = STORE_ANSWER_MS): Promise<T> {
  const outcome = await settleWithin(operation, ms, TIMED_OUT);
  if (outcome !== TIMED_OUT) return outcome;
  operation.catch(() => {}); // it may still fail once the server wakes up; nobody waits for it now
  throw new NoAnswerError(ms);
}
