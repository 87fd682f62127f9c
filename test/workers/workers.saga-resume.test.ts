import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { Scenario } from './support/scenario.js';

const scenarios = await Scenario.perStore('saga');

let p: TestParticipant;
let open = false;
const waiting: (() => void)[] = [];
beforeAll(async () => {
  p = await startParticipant();
  // step b's action hangs until released
  p.on('action', async (call) => {
    if (!open && call.body.branchId === 'b') await new Promise<void>((r) => waiting.push(r));
    return { status: 200, body: { did: call.body.branchId } };
  });
});
afterAll(async () => {
  await p?.close();
});

/** PROTOCOL.md v1.2 "Saga": with Redis, the workers resume a saga whose coordinator died mid-way. */
describe.each(scenarios)('on a %s log', (_kind, scenario) => {
  afterAll(() => scenario.close());

  test('coordinator SIGKILLed between two saga steps, none restarted: a dtx worker resumes the forward path', async () => {
    const s = scenario;
    open = false;
    const worker = await s.worker(2);
    const c = await s.coordinator({ DTX_CALL_TIMEOUT_MS: '2000' });
    const steps = ['a', 'b', 'c'].map((id) => ({ branchId: id, action: `w.${id}`, actionUrl: `${p.url}/w.${id}/action`, compensateUrl: `${p.url}/w.${id}/compensate`, payload: { id } }));
    const begun = await api(c.url, 'POST', '/v1/transactions', { mode: 'saga', timeoutMs: 60_000, wait: false, steps });
    expect(begun.status).toBe(202);
    const xid: string = begun.body.xid;
    await eventually(async () => p.callsOf('action', xid).some((x) => x.body.branchId === 'b'), 10_000, 20);
    await c.kill('SIGKILL');
    open = true;
    for (const r of waiting.splice(0)) r();

    const [row] = await s.waitFor([xid], ['committed'], 30_000);
    expect(row!.status).toBe('committed');
    expect(p.callsOf('action', xid).filter((x) => x.body.branchId === 'a')).toHaveLength(1);
    expect(p.callsOf('action', xid).find((x) => x.body.branchId === 'c')!.body.results).toEqual({ a: { did: 'a' }, b: { did: 'b' } });
    expect(p.callsOf('compensate', xid)).toHaveLength(0);
    expect(worker.proc.exitCode).toBeNull();
  }, 60_000);
});
