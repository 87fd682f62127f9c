import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createCoordinator, type Coordinator } from '../../coordinator/src/index.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { api } from '../support/http.js';

const stores = await storeKinds(['sqlite', 'mysql']);

describe.each(stores)('driven transaction on %s', (kind) => {
  let db: FreshDatabase;
  let c: Coordinator;
  let p: TestParticipant;
  beforeAll(async () => {
    db = await freshDatabase(kind);
    c = createCoordinator({ databaseUrl: db.url, port: 0 });
    await c.start();
    p = await startParticipant();
  });
  afterAll(async () => {
    await c.close();
    await p.close();
    await db.drop();
  });

  test('commits when every try succeeds', async () => {
    p.on('try', () => ({ status: 200, body: { reserved: 1 } }));
    const r = await api(c.url, 'POST', '/v1/transactions', {
      drive: true,
      branches: [
        { branchId: 'a', action: 'w.debit', ...p.urls('w.debit'), payload: { n: 1 } },
        { branchId: 'b', action: 'w.credit', ...p.urls('w.credit'), payload: { n: 2 } },
      ],
    });
    expect(r.status).toBe(201);
    expect(r.body.status).toBe('committed');
    expect(r.body.branches.map((b: any) => b.status)).toEqual(['confirmed', 'confirmed']);
    expect(p.callsOf('confirm', r.body.xid)).toHaveLength(2);
    expect(p.callsOf('confirm', r.body.xid)[0]!.body.tryResult).toEqual({ reserved: 1 });
    const g = await api(c.url, 'GET', `/v1/transactions/${r.body.xid}`);
    expect(g.body.status).toBe('committed');
  });
});
