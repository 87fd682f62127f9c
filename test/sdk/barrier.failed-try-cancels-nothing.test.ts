import { ensureBarrierTable, knexFromUrl, runInBarrier } from '@dtx/participant-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { newXid, sendCallback } from './support/callbacks.js';
import { startWallet, type TestWallet } from './support/wallets.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);

describe.each(kinds)('barrier on %s: a try that failed', (kind) => {
  let wallet: TestWallet | undefined;
  let db: FreshDatabase | undefined;
  afterEach(async () => {
    await wallet?.close();
    await db?.drop();
    wallet = undefined;
    db = undefined;
  });

  it('refused for overdraft leaves a cancel with nothing to undo', async () => {
    wallet = await startWallet(kind);
    await wallet.seed('alice', 20);
    const cb = { action: 'wallet.debit', xid: newXid(), branchId: 'debit', payload: { account: 'alice', amount: 30 } };

    const tried = await sendCallback(wallet.url, { ...cb, phase: 'try' });
    expect(tried.status).toBe(409);
    expect(tried.body).toMatchObject({ error: { code: 'BUSINESS_REJECTED' } });
    const cancel = await sendCallback(wallet.url, { ...cb, phase: 'cancel' });
    expect(cancel).toMatchObject({ status: 204, barrier: 'empty_rollback' });
    // A cancel that ran the business would have unfrozen 30 that were never frozen.
    expect(await wallet.account('alice')).toEqual({ id: 'alice', balance: 20, frozen: 0, incoming: 0 });
  });

  it('that crashed after writing rolls its writes back with its barrier row, so a retry runs and a cancel is empty', async () => {
    db = await freshDatabase(kind, 'barrier');
    const knex = knexFromUrl(db.url);
    try {
      await ensureBarrierTable(knex);
      await knex.schema.createTable('notes', (t) => t.string('text', 64));
      const key = { xid: newXid(), branchId: 'b1' };

      await expect(
        runInBarrier(knex, key, 'try', async (trx) => {
          await trx('notes').insert({ text: 'half done' });
          throw new Error('disk on fire');
        }),
      ).rejects.toThrow('disk on fire');
      expect(Number((await knex('notes').count({ n: '*' }).first())!.n)).toBe(0);

      // The retry is not mistaken for a duplicate: it runs.
      const retried = await runInBarrier(knex, key, 'try', async (trx) => {
        await trx('notes').insert({ text: 'done' });
        return 'ok';
      });
      expect(retried).toEqual({ kind: 'ran', result: 'ok' });

      const other = { xid: key.xid, branchId: 'b2' };
      await expect(runInBarrier(knex, other, 'try', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      let cancelled = false;
      const cancel = await runInBarrier(knex, other, 'cancel', async () => {
        cancelled = true;
      });
      expect(cancel).toEqual({ kind: 'empty_rollback' });
      expect(cancelled).toBe(false);
      expect((await knex('notes').select('text')).map((r: { text: string }) => r.text)).toEqual(['done']);
    } finally {
      await knex.destroy();
    }
  });
});
