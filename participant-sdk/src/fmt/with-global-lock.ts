import { backoffDelayMs } from '@dtx/protocol';
import type { Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import { FmtLockBusyError } from '../errors.js';
import { installGate } from './statement-gate.js';

export interface WithGlobalLockOptions {
  /** How long to keep trying while a row is held by an undecided FMT branch, before throwing FmtLockBusyError. @default 2000 */
  waitMs?: number;
}

/**
 * A local transaction (not part of any global one) that writes tables FMT branches also
 * write: every builder write, and every `.forUpdate()` read, first checks that its rows
 * are not held by an undecided FMT branch. A held row rolls the transaction back and runs
 * `fn` again (so keep it free of outside effects) until `waitMs`, then throws
 * FmtLockBusyError. Raw writes are refused, as in an FMT try. Writes to those tables
 * outside FMT and outside withGlobalLock are what makes a rollback dirty.
 */
export async function withGlobalLock<T>(knex: Knex, fn: (trx: Knex.Transaction) => Promise<T>, options: WithGlobalLockOptions = {}): Promise<T> {
  const until = Date.now() + (options.waitMs ?? 2000);
  for (let attempt = 1; ; attempt++) {
    try {
      return await knex.transaction(async (trx) => {
        const gate = installGate(trx, { mode: 'local' });
        try {
          const result = await fn(trx);
          gate.check();
          return result;
        } finally {
          gate.remove();
        }
      });
    } catch (err) {
      if (!(err instanceof FmtLockBusyError) || Date.now() >= until) throw err;
      await sleep(Math.min(backoffDelayMs({ baseMs: 10, maxMs: 100 }, attempt), Math.max(1, until - Date.now())));
    }
  }
}
