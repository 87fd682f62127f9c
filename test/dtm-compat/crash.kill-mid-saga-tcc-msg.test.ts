import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { spawnDtx, type DtxProcess } from '../support/coordinator-process.js';
import { api, eventually } from '../support/http.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { dtmCall, nodeClient } from './support/dtm-client.js';
import { RecordingParticipant } from './support/recording-participant.js';

const ENV = { DTX_PHASE2_LEASE_MS: '1500', DTX_SWEEP_INTERVAL_MS: '100', DTX_RETRY_BASE_MS: '100', DTX_RETRY_MAX_MS: '500', DTX_LOG_LEVEL: 'error' };
const DTM_READY = /DTM-compatible API listening on (http:\/\/\S+)\/api\/dtmsvr/;

/**
 * A coordinator SIGKILLed in the middle of a DTM-begun saga, TCC or message: a restarted one (with
 * no DTM listener at all) finishes it from the log, calling the branches in DTM's dialect,
 * since the dialect is the transaction's, not the process's.
 */
describe.each(await storeKinds(['sqlite', 'mysql']))('a coordinator killed mid-way through DTM transactions on %s', (kind) => {
  let db: FreshDatabase;
  let p: RecordingParticipant;
  const procs: DtxProcess[] = [];
  beforeEach(async () => {
    db = await freshDatabase(kind, 'dtm_crash');
    p = await new RecordingParticipant().start();
  });
  afterEach(async () => {
    for (const proc of procs.splice(0)) await proc.kill();
    await p.close();
    await db.drop();
  });
  const serveWithDtm = async () => {
    const proc = await spawnDtx(['serve'], { ...ENV, DTX_DATABASE_URL: db.url, DTX_DTM_PORT: '0' }, DTM_READY);
    procs.push(proc);
    return proc;
  };
  const serve = async () => {
    const proc = await spawnDtx(['serve'], { ...ENV, DTX_DATABASE_URL: db.url });
    procs.push(proc);
    return proc;
  };

  test('a saga killed while its second action is in flight is resumed: the action is sent again in DTM’s dialect and the saga commits', async () => {
    const a = await serveWithDtm();
    const gid = `crash-saga-${kind}`;
    p.schedule('/TransIn', 'HANG', 'SUCCESS');
    const body = {
      gid,
      trans_type: 'saga',
      steps: [{ action: `${p.url}/TransOut`, compensate: `${p.url}/TransOutCompensate` }, { action: `${p.url}/TransIn`, compensate: `${p.url}/TransInCompensate` }],
      payloads: ['{"amount":30}', '{"amount":30}'],
      request_timeout: 2,
      branch_headers: { authorization: 'Bearer t' },
    };
    expect(await dtmCall(a.url, 'submit', body)).toMatchObject({ status: 200 });
    await eventually(async () => p.callsTo('/TransIn').length === 1);
    await a.kill('SIGKILL');
    const b = await serve();
    await eventually(async () => (await api(b.url, 'GET', `/v1/transactions/${gid}`)).body.status === 'committed', 30_000);
    expect(p.calls.map((c) => [c.method, c.path, c.query, c.rawBody, c.headers.authorization])).toEqual([
      ['POST', '/TransOut', { gid, trans_type: 'saga', branch_id: '01', op: 'action' }, '{"amount":30}', 'Bearer t'],
      ['POST', '/TransIn', { gid, trans_type: 'saga', branch_id: '02', op: 'action' }, '{"amount":30}', 'Bearer t'],
      ['POST', '/TransIn', { gid, trans_type: 'saga', branch_id: '02', op: 'action' }, '{"amount":30}', 'Bearer t'],
    ]);
  });

  test('a TCC killed while its first confirm is in flight is finished by a restarted coordinator: confirms in reverse order, DTM’s query and body', async () => {
    const a = await serveWithDtm();
    const gid = `crash-tcc-${kind}`;
    p.schedule('/TransOutConfirm', 'HANG', 'SUCCESS');
    expect(await dtmCall(a.url, 'prepare', { gid, trans_type: 'tcc', request_timeout: 2 })).toMatchObject({ status: 200 });
    for (const id of ['01', '02']) {
      expect(await dtmCall(a.url, 'registerTccBranch', nodeClient.registerTccBranch(gid, id, p.url, { amount: Number(id) }))).toMatchObject({ status: 200 });
    }
    expect(await dtmCall(a.url, 'submit', nodeClient.submitTcc(gid))).toMatchObject({ status: 200 });
    await eventually(async () => p.callsTo('/TransOutConfirm').length === 1);
    await a.kill('SIGKILL');
    const b = await serve();
    await eventually(async () => (await api(b.url, 'GET', `/v1/transactions/${gid}`)).body.status === 'committed', 30_000);
    expect(p.calls.map((c) => [c.method, c.query.branch_id, c.query.op, c.rawBody])).toEqual([
      ['POST', '02', 'confirm', '{"amount":2}'],
      ['POST', '02', 'confirm', '{"amount":2}'],
      ['POST', '01', 'confirm', '{"amount":1}'],
    ]);
  });

  test('a message: one prepared and left by a killed coordinator is checked back by a restarted one (DTM’s GET of query_prepared), one killed mid-delivery is delivered again', async () => {
    const a = await serveWithDtm();
    const quiet = `crash-msg-quiet-${kind}`;
    const busy = `crash-msg-busy-${kind}`;
    p.schedule('/busy/TransIn', 'HANG', 'SUCCESS');
    const msg = (gid: string, base: string, extra: Record<string, unknown> = {}) => ({
      gid,
      trans_type: 'msg',
      steps: [{ action: `${p.url}/${base}/TransOut` }, { action: `${p.url}/${base}/TransIn` }],
      payloads: ['{"amount":30}', '{"amount":30}'],
      query_prepared: `${p.url}/${base}/QueryPrepared`,
      ...extra,
    });
    expect(await dtmCall(a.url, 'prepare', msg(quiet, 'quiet', { timeout_to_fail: 2 }))).toMatchObject({ status: 200 });
    expect(await dtmCall(a.url, 'prepare', msg(busy, 'busy', { request_timeout: 2 }))).toMatchObject({ status: 200 });
    expect(await dtmCall(a.url, 'submit', msg(busy, 'busy', { request_timeout: 2 }))).toMatchObject({ status: 200 });
    await eventually(async () => p.callsTo('/busy/TransIn').length === 1);
    await a.kill('SIGKILL');
    const b = await serve();
    for (const gid of [quiet, busy]) await eventually(async () => (await api(b.url, 'GET', `/v1/transactions/${gid}`)).body.status === 'committed', 30_000);
    expect(p.callsTo(undefined, quiet).map((c) => [c.method, c.path, c.query.branch_id, c.query.op])).toEqual([
      ['GET', '/quiet/QueryPrepared', '00', 'msg'],
      ['POST', '/quiet/TransOut', '01', 'action'],
      ['POST', '/quiet/TransIn', '02', 'action'],
    ]);
    // a delivery round logs its outcome when it ends: the dead round's TransOut is delivered again (the barrier answers the repeat)
    expect(p.callsTo(undefined, busy).map((c) => [c.path, c.query.branch_id, c.query.op, c.rawBody])).toEqual([
      ['/busy/TransOut', '01', 'action', '{"amount":30}'],
      ['/busy/TransIn', '02', 'action', '{"amount":30}'],
      ['/busy/TransOut', '01', 'action', '{"amount":30}'],
      ['/busy/TransIn', '02', 'action', '{"amount":30}'],
    ]);
  });
});
