import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { waitForStatus, type TestCoordinator } from './support/coordinator.js';
import { useProbeStage } from './support/probe-stage.js';

/** The API requests the coordinator answered so far, from its own metrics: `POST <route> <status>` → count. */
async function apiRequests(coord: TestCoordinator): Promise<Map<string, number>> {
  const text = await (await request(`${coord.url}/metrics`)).body.text();
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^dtx_http_requests_total\{method="(\w+)",route="([^"]+)",status="(\d+)"\} (\d+)$/gm)) {
    if (m[2]!.startsWith('/v1/')) counts.set(`${m[1]} ${m[2]} ${m[3]}`, Number(m[4]));
  }
  return counts;
}

/** PROTOCOL.md v1.1 "Shorter initiator flow", as transaction() uses it. */
describe('transaction(): the shorter initiator flow', () => {
  const stage = useProbeStage('shorter');
  const setUp = () => stage.setUp();

  it('two branches called together cost two coordinator requests: a begin that lists them and a commit with their results', async () => {
    const { client, probe } = await setUp();
    const outcome = await client.transaction(async (tx) => Promise.all([tx.call(probe, { do: 'ok' }, { branchId: 'a' }), tx.call(probe, { do: 'ok' }, { branchId: 'b' })]));
    expect(outcome.status).toBe('committed');
    expect(Object.fromEntries(await apiRequests(stage.coord))).toEqual({ 'POST /v1/transactions 201': 1, 'POST /v1/transactions/:xid/commit 200': 1 });
    // confirm still receives what each try returned
    expect(stage.participant.phase2.map((p) => [p.phase, p.tryResult]).sort()).toEqual([
      ['confirm', { attempt: 1, xid: outcome.xid }],
      ['confirm', { attempt: 1, xid: outcome.xid }],
    ]);
    expect((await client.get(outcome.xid)).branches.map((b) => [b.branchId, b.status])).toEqual([['a', 'confirmed'], ['b', 'confirmed']]);
  });

  it('two branches one after the other cost three: the begin with the first, a register for the second before its try, the commit', async () => {
    const { client, probe } = await setUp();
    const outcome = await client.transaction(async (tx) => {
      await tx.call(probe, { do: 'ok' }, { branchId: 'a' });
      await tx.call(probe, { do: 'ok' }, { branchId: 'b' });
    });
    expect(outcome.status).toBe('committed');
    expect(Object.fromEntries(await apiRequests(stage.coord))).toEqual({
      'POST /v1/transactions 201': 1,
      'POST /v1/transactions/:xid/branches 201': 1,
      'POST /v1/transactions/:xid/commit 200': 1,
    });
  });

  it('a body that throws after a try succeeded reports that result before its rollback, so the cancel receives it', async () => {
    const { client, probe } = await setUp();
    const outcome = await client.transaction(async (tx) => {
      await tx.call(probe, { do: 'ok' }, { branchId: 'a' });
      throw new Error('changed my mind');
    });
    expect(outcome.status).toBe('rolled_back');
    expect('error' in outcome && outcome.error.message).toBe('changed my mind');
    expect(stage.participant.phase2).toEqual([{ phase: 'cancel', xid: outcome.xid, payload: { do: 'ok' }, tryResult: { attempt: 1, xid: outcome.xid } }]);
    const view = await waitForStatus(client, outcome.xid, 'rolled_back');
    expect(view.reason).toBe('changed my mind');
  });

  it('a rejected try among two called together rolls back both, and the rejected one is cancelled as an empty rollback', async () => {
    const { client, probe } = await setUp();
    const outcome = await client.transaction(async (tx) => Promise.all([tx.call(probe, { do: 'ok' }, { branchId: 'a' }), tx.call(probe, { do: 'reject' }, { branchId: 'b' })]));
    expect(outcome.status).toBe('rolled_back');
    const view = await waitForStatus(client, outcome.xid, 'rolled_back');
    expect(view.branches.map((b) => [b.branchId, b.status])).toEqual([['a', 'cancelled'], ['b', 'cancelled']]);
    // the barrier runs the business cancel only for the try that ran
    expect(stage.participant.phase2.map((p) => p.phase)).toEqual(['cancel']);
  });
});
