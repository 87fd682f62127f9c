import { afterEach, describe, expect, test } from 'vitest';
import { spawnDtx, type DtxProcess } from '../support/coordinator-process.js';
import { startCoordinator, type Running } from '../support/coordinator.js';
import { api } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { xid as newXid } from './api.fixture.js';

// A driven begin is sent again because its first answer was lost. The protocol promises
// the same request yields the same result: a repeat while the first driver works answers
// that driver's outcome; a repeat after the first driver's process died drives the
// transaction itself, and of two such repeats only one does.
const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);
// two coordinator processes share a log only on a server store
const serverStores = stores.filter((k) => k !== 'sqlite');

const body = (xid: string, p: TestParticipant) => ({
  xid,
  drive: true,
  timeoutMs: 30_000,
  branches: ['a', 'b'].map((id) => ({ branchId: id, action: `w.${id}`, ...p.urls(`w.${id}`) })),
});

describe.each(stores)('a repeated driven begin on %s', (kind) => {
  let r: Running | undefined;
  let p: TestParticipant | undefined;
  afterEach(async () => {
    await r?.close();
    await p?.close();
    r = p = undefined;
  });

  test('while the first request still drives it: the repeat answers its outcome, and every try is called once', async () => {
    r = await startCoordinator({ kind, label: 'repeatdrive' });
    p = await startParticipant();
    p.on('try', () => ({ status: 200, body: { ok: 1 }, delayMs: 600 }));
    const x = newXid('rep');
    const first = api(r.url, 'POST', '/v1/transactions', body(x, p));
    await new Promise((res) => setTimeout(res, 150));
    const repeat = await api(r.url, 'POST', '/v1/transactions', body(x, p));
    expect((await first).status).toBe(201);
    expect(repeat.status).toBe(200);
    expect(repeat.body.status).toBe('committed');
    expect(p.callsOf('try', x).map((c) => c.body.branchId).sort()).toEqual(['a', 'b']);
  });
});

describe.each(serverStores)('a repeated driven begin after its driver died, on %s', (kind) => {
  let p: TestParticipant | undefined;
  const procs: DtxProcess[] = [];
  let db: FreshDatabase | undefined;
  afterEach(async () => {
    for (const proc of procs.splice(0)) await proc.kill();
    await p?.close();
    await db?.drop();
    p = db = undefined;
  });

  test('after the first driver died mid-tries: two repeats, one drives, both answer committed', async () => {
    db = await freshDatabase(kind, 'repeatdrive');
    p = await startParticipant();
    const env = { DTX_DATABASE_URL: db.url, DTX_CALL_TIMEOUT_MS: '1500', DTX_SWEEP_INTERVAL_MS: '200' };
    const dying = await spawnDtx(['serve'], env);
    procs.push(dying);
    let hang = true;
    p.on('try', () => (hang ? { status: 200, body: {}, delayMs: 20_000 } : { status: 200, body: { ok: 1 } }));
    const x = newXid('rep');
    void api(dying.url, 'POST', '/v1/transactions', body(x, p)).catch(() => undefined);
    await new Promise((res) => setTimeout(res, 300));
    expect(p.callsOf('try', x)).toHaveLength(2);
    await dying.kill('SIGKILL'); // its answer is lost with it
    hang = false;
    const [one, two] = await Promise.all([spawnDtx(['serve'], env), spawnDtx(['serve'], env)]);
    procs.push(one!, two!);
    // the dead driver's hold (one round of 1.5 s tries and the write margin) lapses first
    const [ra, rb] = await Promise.all([api(one!.url, 'POST', '/v1/transactions', body(x, p)), api(two!.url, 'POST', '/v1/transactions', body(x, p))]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    expect([ra.body.status, rb.body.status]).toEqual(['committed', 'committed']);
    // the dead driver's two tries, then one more of each branch: one repeat drove
    expect(p.callsOf('try', x).map((c) => c.body.branchId).sort()).toEqual(['a', 'a', 'b', 'b']);
    expect(p.callsOf('confirm', x).map((c) => c.body.branchId).sort()).toEqual(['a', 'b']);
  });
});
