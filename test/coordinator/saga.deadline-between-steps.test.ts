import { describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';
import { apiSuite, openStore, xid } from './api.fixture.js';

const stores = await storeKinds(['mysql', 'postgres']);

/**
 * PROTOCOL.md v1.2 "Saga": "Steps never called are not compensated." Here the deadline
 * passes while the write that records step a done (and marks step b called) waits on a
 * row lock; the write then goes through, b's driver finds no time left and rolls the saga
 * back without calling b, and b, never called, is compensated anyway.
 */
describe.each(stores)('a saga whose deadline passes between two steps, on %s', (kind) => {
  const s = apiSuite(kind, 'saga_deadline', { callTimeoutMs: 1000, sweepIntervalMs: 100 });

  test('the step after it is never called and never compensated', async () => {
    const x = xid('saga');
    const timeoutMs = 1500;
    const log = openStore(s.r.db);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: Promise<void>;
    try {
      s.p.on('action', async (call) => {
        if (call.body.branchId === 'a') {
          // another session holds the saga's row, as a slow database or a long lock wait would: the write after a waits
          const taken = new Promise<void>((r) => {
            locked = log.transaction(async (trx) => {
              await trx('dtx_global_tx').where('xid', x).forUpdate().select('xid');
              r();
              await held;
            });
          });
          await taken;
        }
        return { status: 200, body: { did: call.body.branchId } };
      });
      s.p.on('compensate', () => ({ status: 200, body: {} }));
      const step = (id: string) => ({ branchId: id, action: `d.${id}`, ...s.p.sagaUrls(`d.${id}`), payload: {} });
      const begun = await api(s.base, 'POST', '/v1/transactions', { mode: 'saga', xid: x, timeoutMs, wait: false, steps: [step('a'), step('b')] });
      expect(begun.status).toBe(202);
      await eventually(async () => s.p.callsOf('action', x).length === 1);
      await new Promise((r) => setTimeout(r, timeoutMs + 300)); // past the deadline, well within the log's 3 s statement bound
      release();
      await locked;
      const tx = await eventually(async () => {
        const t = await s.get(x);
        return t.status === 'rolled_back' || t.status === 'committed' ? t : null;
      });
      expect(tx.status).toBe('rolled_back');
      expect(s.p.callsOf('action', x).map((c) => c.body.branchId)).toEqual(['a']);
      expect(s.p.callsOf('compensate', x).map((c) => c.body.branchId)).toEqual(['a']);
      expect(tx.branches.map((b: { branchId: string; status: string }) => [b.branchId, b.status])).toEqual([
        ['a', 'compensated'],
        ['b', 'registered'],
      ]);
    } finally {
      release();
      await log.destroy();
    }
  });
});
