import { afterEach, describe, expect, it } from 'vitest';
import { ensureAccountsTable } from '../../examples/bank/src/accounts-table.js';
import { requireService } from '../support/services.js';
import { newXid, openFmtDesk, type FmtDesk } from './support/fmt-desk.js';

const kinds = [...((await requireService('mysql')) ? ['mysql' as const] : []), ...((await requireService('postgres')) ? ['postgres' as const] : [])];

/**
 * The statements of one FMT phase's local transaction (BEGIN / COMMIT / ROLLBACK left out),
 * for the example wallet's single-row debit, the catalog already cached. The bench's
 * `bank-fmt` figures rest on these; a change that adds a round trip shows here.
 */
const EXPECTED: Record<'mysql' | 'postgres', Record<string, number>> = {
  // try: barrier insert, before image FOR UPDATE, locks, UPDATE, after image, undo insert, keep result
  // confirm: barrier (2), delete the branch's undo records, release the transaction's locks
  // cancel: barrier (2), undo records FOR UPDATE, current image FOR UPDATE, restore, delete undo, release locks
  mysql: { try: 7, repeatedTry: 2, confirm: 4, repeatedConfirm: 3, cancel: 7, emptyRollback: 2, refusedTry: 4 },
  postgres: { try: 7, repeatedTry: 2, confirm: 4, repeatedConfirm: 3, cancel: 7, emptyRollback: 2, refusedTry: 4 },
};

describe.each(kinds)('FMT on %s: statements per phase', (kind) => {
  let desk: FmtDesk | undefined;
  afterEach(async () => desk?.close());

  it('sends the pinned number of statements in each phase', async () => {
    desk = await openFmtDesk(kind, 'fmtcount');
    await ensureAccountsTable(desk.knex);
    await desk.knex('accounts').insert({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
    const d = desk;
    // warm the catalog cache, as a running wallet has it
    const warm = newXid();
    await d.wallet('debit', 'try', warm, 'alice', 1);
    await d.wallet('debit', 'confirm', warm, 'alice', 1);
    const perTransaction = new Map<string, number>();
    desk.knex.on('query', (q: { sql: string; __knexTxId?: string }) => {
      if (q.__knexTxId === undefined || /^(BEGIN|COMMIT|ROLLBACK)\b/i.test(q.sql.trim())) return;
      perTransaction.set(q.__knexTxId, (perTransaction.get(q.__knexTxId) ?? 0) + 1);
    });
    const count = async (run: () => Promise<unknown>) => {
      perTransaction.clear();
      await run();
      expect(perTransaction.size).toBe(1);
      return [...perTransaction.values()][0]!;
    };
    const seen: Record<string, number> = {};
    const x = newXid();
    seen.try = await count(() => d.wallet('debit', 'try', x, 'alice', 10));
    seen.repeatedTry = await count(() => d.wallet('debit', 'try', x, 'alice', 10));
    seen.confirm = await count(() => d.wallet('debit', 'confirm', x, 'alice', 10));
    seen.repeatedConfirm = await count(() => d.wallet('debit', 'confirm', x, 'alice', 10));
    const y = newXid();
    await d.wallet('credit', 'try', y, 'alice', 10);
    seen.cancel = await count(() => d.wallet('credit', 'cancel', y, 'alice', 10));
    seen.emptyRollback = await count(() => d.wallet('debit', 'cancel', newXid(), 'alice', 10));
    // an overdraft: barrier insert, before image, (no row: no lock, no write… the UPDATE still runs), the existence read
    seen.refusedTry = await count(() => d.wallet('debit', 'try', newXid(), 'alice', 1_000_000));
    expect(seen).toEqual(EXPECTED[kind]);
  });
});
