import { TccRejectedError, TrySuspendedError, type BarrierOutcome } from '@dtx/participant-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, requireService, type FreshDatabase } from '../support/services.js';
import { newXid, openXaDesk, type XaDesk } from './support/xa-table.js';

const mysql = await requireService('mysql');

describe.runIf(mysql)('@XaAction on MariaDB: the phases through the XA branch and the barrier', () => {
  let db: FreshDatabase | undefined;
  let desk: XaDesk | undefined;
  const xids: string[] = [];
  const open = async (alice = 100) => {
    db = await freshDatabase('mysql', 'xa');
    desk = await openXaDesk(db.url, alice);
    return desk;
  };
  const xid = () => {
    const x = newXid();
    xids.push(x);
    return x;
  };
  afterEach(async () => {
    try {
      // Every test leaves no prepared branch of its own behind.
      const left = (await desk?.prepared(xids)) ?? [];
      await desk!.rollBack(left);
      expect(left).toEqual([]);
    } finally {
      xids.length = 0;
      await desk?.close();
      await db?.drop();
    }
  });

  it('try prepares the debit, invisible until confirm commits it', async () => {
    const d = await open();
    const x = xid();
    expect(await d.send('debit', 'try', x)).toEqual({ kind: 'ran', result: { debited: 30 } });
    expect(await d.prepared([x])).toHaveLength(1);
    expect(await d.balance()).toBe(100);
    expect(await d.send('debit', 'confirm', x)).toEqual({ kind: 'ran', result: undefined });
    expect(await d.balance()).toBe(70);
  });

  it('cancel rolls the prepared debit back', async () => {
    const d = await open();
    const x = xid();
    await d.send('debit', 'try', x);
    expect(await d.send('debit', 'cancel', x)).toMatchObject({ kind: 'ran' });
    expect(await d.balance()).toBe(100);
  });

  it('an overdraft is refused and prepares nothing', async () => {
    const d = await open(10);
    const x = xid();
    expect(await d.send('debit', 'try', x)).toBeInstanceOf(TccRejectedError);
    expect(await d.prepared([x])).toEqual([]);
    expect(await d.send('debit', 'cancel', x)).toEqual({ kind: 'empty_rollback' });
    expect(await d.balance()).toBe(10);
  });

  it('duplicate try (with its result), confirm and cancel apply once', async () => {
    const d = await open();
    const x = xid();
    await d.send('debit', 'try', x);
    expect(await d.send('debit', 'try', x)).toEqual({ kind: 'duplicate', result: { debited: 30 } });
    expect(await d.send('debit', 'confirm', x)).toMatchObject({ kind: 'ran' });
    expect(await d.send('debit', 'confirm', x)).toEqual({ kind: 'duplicate' });
    expect(await d.send('debit', 'try', x)).toEqual({ kind: 'duplicate', result: { debited: 30 } });
    expect(await d.balance()).toBe(70);
    const y = xid();
    await d.send('debit', 'try', y);
    expect(await d.send('debit', 'cancel', y)).toMatchObject({ kind: 'ran' });
    expect(await d.send('debit', 'cancel', y)).toEqual({ kind: 'duplicate' });
    expect(await d.balance()).toBe(70);
  });

  it('a cancel before its try is an empty rollback, and the late try is refused', async () => {
    const d = await open();
    const x = xid();
    expect(await d.send('debit', 'cancel', x)).toEqual({ kind: 'empty_rollback' });
    expect(await d.send('debit', 'try', x)).toBeInstanceOf(TrySuspendedError);
    expect(await d.balance()).toBe(100);
    expect(await d.send('debit', 'confirm', x)).toMatchObject({ code: 'PHASE_CONFLICT' });
  });

  it('a confirm after the branch was cancelled is refused; a cancel after confirm too', async () => {
    const d = await open();
    const x = xid();
    await d.send('debit', 'try', x);
    await d.send('debit', 'confirm', x);
    expect(await d.send('debit', 'cancel', x)).toMatchObject({ code: 'PHASE_CONFLICT' });
    expect(await d.balance()).toBe(70);
  });

  it('a confirm that finds the XA branch already committed (crash before its confirm row) still completes', async () => {
    const d = await open();
    const x = xid();
    await d.send('debit', 'try', x);
    await d.knex.raw(`XA COMMIT '${x}','debit',${d.formatId}`);
    expect(await d.send('debit', 'confirm', x)).toEqual({ kind: 'duplicate' });
    expect(await d.balance()).toBe(70);
  });

  it('a cancel racing its try always ends with the change rolled back (30 rounds)', async () => {
    const d = await open(1000);
    const seen = { rolledBack: 0, suspended: 0 };
    for (let round = 0; round < 30; round++) {
      const x = xid();
      const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const [t, c] = await Promise.all([
        delay(round % 2 ? Math.random() * 4 : 0).then(() => d.send('debit', 'try', x)),
        delay(round % 2 ? 0 : Math.random() * 4).then(() => d.send('debit', 'cancel', x)),
      ]);
      expect(c).not.toBeInstanceOf(Error);
      if (t instanceof Error) {
        expect(t).toBeInstanceOf(TrySuspendedError);
        seen.suspended++;
      } else {
        expect((c as BarrierOutcome<unknown>).kind).toBe('ran');
        seen.rolledBack++;
      }
      expect({ round, balance: await d.balance() }).toEqual({ round, balance: 1000 });
    }
    expect(seen.rolledBack + seen.suspended).toBe(30);
  }, 60_000);
});
