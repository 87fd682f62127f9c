import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually } from '../support/http.js';
import { Scenario } from '../workers/support/scenario.js';
import { dtmCall, nodeClient } from './support/dtm-client.js';
import { RecordingParticipant } from './support/recording-participant.js';

const scenarios = await Scenario.perStore('dtm_workers');

let p: RecordingParticipant;
beforeAll(async () => {
  p = await new RecordingParticipant().start();
});
afterAll(async () => {
  await p?.close();
});

/** With Redis, `dtx worker` processes finish DTM-begun transactions, calling in DTM's dialect read from the log. */
describe.each(scenarios)('on a %s log', (kind, s) => {
  afterAll(() => s.close());

  test('a TCC whose coordinator died after a failed confirm round is finished by a worker: DTM’s query, raw body and reverse order', async () => {
    await s.worker(2);
    const c = await s.coordinator({ DTX_DTM_PORT: '0' });
    const dtm = await eventually(async () => /DTM-compatible API listening on (http:\/\/\S+)\/api\/dtmsvr/.exec(c.output())?.[1]);
    const gid = `worker-tcc-${kind}`;
    p.schedule(`/${gid}/TransOutConfirm`, 'ERROR', 'ERROR', 'SUCCESS');
    expect(await dtmCall(dtm, 'prepare', { gid, trans_type: 'tcc', branch_headers: { 'x-tenant': 't1' } })).toMatchObject({ status: 200 });
    for (const id of ['01', '02']) {
      expect(await dtmCall(dtm, 'registerTccBranch', nodeClient.registerTccBranch(gid, id, `${p.url}/${gid}`, { amount: Number(id) }))).toMatchObject({ status: 200 });
    }
    expect(await dtmCall(dtm, 'submit', nodeClient.submitTcc(gid))).toMatchObject({ status: 200 });
    await eventually(async () => p.callsTo(`/${gid}/TransOutConfirm`).length >= 1);
    await c.kill('SIGKILL');
    const [row] = await s.waitFor([gid], ['committed'], 30_000);
    expect(row!.status).toBe('committed');
    const calls = p.callsTo(`/${gid}/TransOutConfirm`);
    expect(calls.map((x) => [x.method, x.query, x.rawBody, x.headers['x-tenant']])).toEqual([
      ['POST', { gid, trans_type: 'tcc', branch_id: '02', op: 'confirm' }, '{"amount":2}', 't1'],
      ['POST', { gid, trans_type: 'tcc', branch_id: '02', op: 'confirm' }, '{"amount":2}', 't1'],
      ['POST', { gid, trans_type: 'tcc', branch_id: '02', op: 'confirm' }, '{"amount":2}', 't1'],
      ['POST', { gid, trans_type: 'tcc', branch_id: '01', op: 'confirm' }, '{"amount":1}', 't1'],
    ]);
  }, 60_000);
});
