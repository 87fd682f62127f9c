import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCoordinator, type Running } from '../support/coordinator.js';
import { api, eventually } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';

// without the server (and outside CI) its suite is left out, with requireService's warning
const stores = (await storeKinds(['mysql', 'postgres'])).filter((k) => k !== 'sqlite');

describe.each(stores)('two coordinators on one %s log', (kind) => {
  let db: FreshDatabase;
  let a: Running;
  let b: Running;
  let p: TestParticipant;

  beforeAll(async () => {
    db = await freshDatabase(kind, 'sweepers');
    p = await startParticipant();
    a = await startCoordinator({ db });
    b = await startCoordinator({ db });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await p.close();
    await db.drop();
  });

  test('two coordinators sweeping one database never drive the same transaction at once', async () => {
    // first every confirm fails, so every transaction lands in recovery
    let healthy = false;
    const inFlight = new Map<string, number>();
    let overlaps = 0;
    const applied = new Map<string, number>();
    p.on('confirm', async (call) => {
      if (!healthy) return { status: 503 };
      const key = `${call.body.xid}/${call.body.branchId}`;
      const n = (inFlight.get(key) ?? 0) + 1;
      inFlight.set(key, n);
      if (n > 1) overlaps++;
      await new Promise((r) => setTimeout(r, 120));
      inFlight.set(key, inFlight.get(key)! - 1);
      applied.set(key, (applied.get(key) ?? 0) + 1);
      return { status: 200, body: {} };
    });

    const xids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await api(a.url, 'POST', '/v1/transactions', {
        branches: [{ branchId: 'x', action: 'w.x', ...p.urls('w.x') }],
      });
      const c = await api(i % 2 ? a.url : b.url, 'POST', `/v1/transactions/${r.body.xid}/commit`, { wait: true });
      expect(c.body.status).toBe('committing');
      xids.push(r.body.xid);
    }
    healthy = true;
    await eventually(async () => {
      const page = await api(a.url, 'GET', '/v1/transactions?status=committed&limit=500');
      return page.body.items.length === xids.length;
    }, 30_000);

    expect(overlaps).toBe(0);
    for (const xid of xids) expect(applied.get(`${xid}/x`)).toBe(1);
  });
});
