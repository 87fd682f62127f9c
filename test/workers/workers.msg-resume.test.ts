import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { heldActions } from '../support/crash-stage.js';
import { api, eventually } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { Scenario } from './support/scenario.js';

const scenarios = await Scenario.perStore('msg');

let p: TestParticipant;
let part: ReturnType<typeof heldActions>;
beforeAll(async () => {
  p = await startParticipant();
  part = heldActions(p, 'a'); // step a's delivery hangs until released
  p.on('check', () => ({ status: 200, body: {} }));
});
afterAll(async () => {
  await p?.close();
});

/** PROTOCOL.md v1.2 "Message": with Redis, the workers deliver, and check back, messages whose coordinator died. */
describe.each(scenarios)('on a %s log', (_kind, scenario) => {
  afterAll(() => scenario.close());
  const steps = () => ['a', 'b'].map((id) => ({ branchId: id, action: `m.${id}`, actionUrl: p.sagaUrls(`m.${id}`).actionUrl, payload: { id } }));

  test('coordinator SIGKILLed after a message’s commit, before its delivery was logged, none restarted: a dtx worker delivers it', async () => {
    const s = scenario;
    part = heldActions(p, 'a'); // a gate of its own: the store before this one released the last
    const worker = await s.worker(2);
    const c = await s.coordinator({ DTX_CALL_TIMEOUT_MS: '2000' });
    const begun = await api(c.url, 'POST', '/v1/transactions', { mode: 'msg', timeoutMs: 60_000, checkUrl: p.checkUrl, steps: steps() });
    expect(begun.status).toBe(201);
    const xid: string = begun.body.xid;
    expect((await api(c.url, 'POST', `/v1/transactions/${xid}/commit`, {})).body.status).toBe('committing');
    await eventually(async () => p.callsOf('action', xid).length === 1, 10_000, 20);
    await c.kill('SIGKILL');
    part.release();

    const [row] = await s.waitFor([xid], ['committed'], 30_000);
    expect(row!.status).toBe('committed');
    for (const id of ['a', 'b']) expect(part.effects.get(`action:${xid}/${id}`)).toBe(1);
    expect(p.callsOf('action', xid).at(-1)!.body.branchId).toBe('b');
    expect(p.callsOf('check', xid)).toEqual([]);
    expect(worker.proc.exitCode).toBeNull();
  }, 60_000);

  test('coordinator SIGKILLed while a message is prepared: a dtx worker checks back at the deadline and delivers', async () => {
    const s = scenario;
    const worker = await s.worker(2);
    const c = await s.coordinator();
    const begun = await api(c.url, 'POST', '/v1/transactions', { mode: 'msg', timeoutMs: 1500, checkUrl: p.checkUrl, steps: steps() });
    const xid: string = begun.body.xid;
    await c.kill('SIGKILL');

    await s.waitFor([xid], ['committed'], 30_000);
    expect(p.callsOf('check', xid)).toHaveLength(1);
    expect(p.callsOf('check', xid)[0]!.body).toEqual({ xid, phase: 'check' });
    expect(p.callsOf('action', xid).map((x) => x.body.branchId)).toEqual(['a', 'b']);
    expect(worker.proc.exitCode).toBeNull();
  }, 60_000);
});
