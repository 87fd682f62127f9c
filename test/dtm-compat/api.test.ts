import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from '../support/coordinator.js';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';
import { branchStatuses, dtmCall, globalStatus, nodeClient } from './support/dtm-client.js';
import { startDtmFixture, type DtmFixture } from './support/dtm-fixture.js';

const SUCCESS = '{"dtm_result":"SUCCESS"}';

/** DTM's operator and service routes (TestAPI*), and the answers to bad input, in DTM's shapes. */
describe.each(await storeKinds(['sqlite', 'postgres']))('DTM API routes on %s', (kind) => {
  let f: DtmFixture;
  beforeAll(async () => {
    f = await startDtmFixture({ kind });
  });
  afterAll(() => f.close());

  async function committedTcc(gid: string): Promise<void> {
    expect(await dtmCall(f.dtm, 'prepare', nodeClient.prepareTcc(gid))).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'registerTccBranch', nodeClient.registerTccBranch(gid, '01', f.p.url, { amount: 1 }))).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'submit', nodeClient.submitTcc(gid))).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
  }

  it('ping, version and newGid', async () => {
    const ping = await fetch(`${f.dtm}/api/ping`, { method: 'POST' });
    expect([ping.status, await ping.json()]).toEqual([200, { msg: 'pong' }]);
    const v = await dtmCall(f.dtm, 'version');
    expect(v.status).toBe(200);
    expect(v.json.version).toMatch(/^dtx-\d+\.\d+\.\d+/);
    const a = await dtmCall(f.dtm, 'newGid');
    const b = await dtmCall(f.dtm, 'newGid');
    expect(a.json.dtm_result).toBe('SUCCESS');
    expect(a.json.gid).not.toBe(b.json.gid);
    const openapi = (await (await fetch(`${f.dtm}/docs`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/api/dtmsvr/prepare', '/api/dtmsvr/submit', '/api/dtmsvr/registerTccBranch', '/api/dtmsvr/query', '/api/ping']));
  });

  it('query (TestAPIQuery): an unknown gid is 200 with a null transaction, no gid is 500; a known one has DTM’s fields and no empty ones', async () => {
    expect(await dtmCall(f.dtm, 'query?gid=nobody-has-this')).toMatchObject({ status: 200, json: { transaction: null, branches: [] } });
    const none = await dtmCall(f.dtm, 'query');
    expect(none.status).toBe(500);
    expect(none.json.message).toMatch(/gid/);
    const gid = `q-${kind}-${Date.now()}`;
    await committedTcc(gid);
    const q = await dtmCall(f.dtm, `query?gid=${gid}`);
    const t = q.json.transaction;
    expect(Object.keys(t).sort()).toEqual(['attempts', 'concurrent', 'create_time', 'finish_time', 'gid', 'id', 'options', 'protocol', 'status', 'stuck', 'trans_type', 'update_time']);
    expect(JSON.parse(t.options)).toEqual({ trans_type: 'tcc' });
    expect(q.json.branches.map((b: any) => b.id)).toEqual([1, 2]);
    expect(q.json.branches[1]).toMatchObject({ gid, branch_id: '01', op: 'confirm', status: 'succeed' });
    expect(q.json.branches[0].finish_time).toBeUndefined();
  });

  it('query shows DTX’s stuck flag, attempts and last error of a confirm that keeps failing', async () => {
    const gid = `stuck-${kind}-${Date.now()}`;
    f.p.schedule(`/stuck/${gid}`, 'ERROR');
    expect(await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'registerBranch', { gid, branch_id: '01', trans_type: 'tcc', data: '{}', confirm: `${f.p.url}/stuck/${gid}`, cancel: `${f.p.url}/c` })).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'submit', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    const t = await eventually(async () => {
      const q = await dtmCall(f.dtm, `query?gid=${gid}`);
      return q.json.transaction.attempts >= 2 ? q.json.transaction : null;
    });
    expect(t).toMatchObject({ status: 'submitted' });
    expect(t.last_error).toMatch(/HTTP 500/);
    expect(t.next_cron_time).toBeDefined();
    // resetNextCronTime (TestAPIResetNextCronTime): due now, so the next call comes at once
    f.p.schedule(`/stuck/${gid}`, 'SUCCESS');
    expect(await dtmCall(f.dtm, 'resetNextCronTime', { gid })).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed', 5000);
    expect((await dtmCall(f.dtm, 'resetNextCronTime', { gid: 'unknown-gid' })).status).toBe(500);
  });

  it('all (TestAPIAll): newest first, pages of limit with next_position, "" after the last; filters by status, transType and creation time', async () => {
    const gids = [0, 1, 2].map((i) => `all-${kind}-${Date.now()}-${i}`);
    for (const gid of gids) {
      await committedTcc(gid);
      await new Promise((r) => setTimeout(r, 5)); // distinct creation times
    }
    const first = await dtmCall(f.dtm, 'all?limit=2');
    expect(first.status).toBe(200);
    expect(first.json.transactions.map((t: any) => t.gid)).toEqual([gids[2], gids[1]]);
    expect(first.json.next_position).not.toBe('');
    const second = await dtmCall(f.dtm, `all?limit=2&position=${first.json.next_position}`);
    expect(second.json.transactions[0].gid).toBe(gids[0]);
    const everything = await dtmCall(f.dtm, 'all?limit=500');
    expect(everything.json.next_position).toBe('');
    expect((await dtmCall(f.dtm, 'all?status=succeed&transType=tcc&limit=500')).json.transactions.map((t: any) => t.gid)).toEqual(expect.arrayContaining(gids));
    expect((await dtmCall(f.dtm, 'all?status=prepared&limit=500')).json.transactions.map((t: any) => t.gid)).not.toContain(gids[0]);
    expect((await dtmCall(f.dtm, `all?gid=${gids[1]}`)).json.transactions.map((t: any) => t.gid)).toEqual([gids[1]]);
    expect((await dtmCall(f.dtm, 'all?position=not-a-position')).status).toBe(409);
    const created = (await api(f.running.url, 'GET', `/v1/transactions/${gids[1]}`)).body.createdAt as string;
    const from = Date.parse(created);
    const window = await dtmCall(f.dtm, `all?limit=500&createTimeStart=${from}&createTimeEnd=${from + 1}`);
    expect(window.json.transactions.map((t: any) => t.gid)).toEqual([gids[1]]);
  });

  it('forceStop (TestAPIForceStopped*) is refused by default: 409, the transaction goes on; a finished one is 409, an unknown gid 500', async () => {
    const gid = `fs-${kind}-${Date.now()}`;
    expect(await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    const r = await dtmCall(f.dtm, 'forceStop', { gid });
    expect(r.status).toBe(409);
    expect(r.json).toMatchObject({ dtm_result: 'FAILURE', code: 'FORCE_STOP_REFUSED' });
    expect(await globalStatus(f.dtm, gid)).toBe('prepared');
    expect(await dtmCall(f.dtm, 'submit', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
    expect((await dtmCall(f.dtm, 'forceStop', { gid })).json).toMatchObject({ dtm_result: 'FAILURE', code: 'TX_FINISHED' });
    expect((await dtmCall(f.dtm, 'forceStop', { gid: 'unknown-gid' })).status).toBe(500);
  });

  it('resetCronTime (TestAPIResetCronTime): decided transactions due later than now+timeout become due now', async () => {
    const gid = `rct-${kind}-${Date.now()}`;
    f.p.schedule(`/rct/${gid}`, 'ERROR');
    expect(await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'registerBranch', { gid, branch_id: '01', trans_type: 'tcc', data: '{}', confirm: `${f.p.url}/rct/${gid}`, cancel: `${f.p.url}/c` })).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'submit', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    await eventually(async () => f.p.callsTo(`/rct/${gid}`).length >= 1);
    // a long wait ahead: nothing is due later than a day from now, everything later than -1 s is
    expect((await dtmCall(f.dtm, 'resetCronTime?timeout=86400')).json).toEqual({ has_remaining: false, succeed_count: 0 });
    f.p.schedule(`/rct/${gid}`, 'SUCCESS');
    const r = await dtmCall(f.dtm, 'resetCronTime?timeout=0&limit=100');
    expect(r.status).toBe(200);
    expect(r.json.has_remaining).toBe(false);
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed', 5000);
  });

  it('bad input: malformed JSON is 500 with a message; an unserved trans_type, a bad gid or a non-object body change nothing', async () => {
    const bad = await dtmCall(f.dtm, 'submit', '{"gid": ');
    expect(bad.status).toBe(500);
    expect(bad.json.message).toMatch(/malformed JSON/);
    const wf = await dtmCall(f.dtm, 'prepare', { gid: 'wf-1', trans_type: 'workflow' });
    expect(wf.status).toBe(409);
    expect(wf.json).toMatchObject({ dtm_result: 'FAILURE', code: 'INVALID_REQUEST' });
    const gid = await dtmCall(f.dtm, 'prepare', { gid: 'has space', trans_type: 'tcc' });
    expect(gid.status).toBe(409);
    // DTM strips ; \r \n from a gid
    expect(await dtmCall(f.dtm, 'prepare', { gid: `semi;colon-${kind}`, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    expect(await globalStatus(f.dtm, `semicolon-${kind}`)).toBe('prepared');
    expect((await dtmCall(f.dtm, 'registerBranch', { gid: 'never-prepared', branch_id: '01', trans_type: 'tcc', confirm: 'http://x/c', cancel: 'http://x/k' })).status).toBe(409);
    expect((await dtmCall(f.dtm, 'registerBranch', { gid: `semicolon-${kind}`, branch_id: '01', trans_type: 'tcc', confirm: 'not a url', cancel: 'http://x/k' })).json).toMatchObject({ dtm_result: 'FAILURE', code: 'INVALID_REQUEST' });
    expect((await dtmCall(f.dtm, 'submit', { gid: `s-${kind}`, trans_type: 'saga', steps: [{ action: 'no url', compensate: '' }], payloads: [''] })).json).toMatchObject({ code: 'INVALID_REQUEST' });
    expect((await dtmCall(f.dtm, `query?gid=s-${kind}`)).json.transaction).toBeNull();
    const notFound = await fetch(`${f.dtm}/api/dtmsvr/nope`);
    expect(notFound.status).toBe(404);
  });

  it('a 200 never carries the text FAILURE (DTM’s clients treat any such body as an error)', async () => {
    const gid = `nf-${kind}-${Date.now()}`;
    expect(await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    const abort = await dtmCall(f.dtm, 'abort', { gid, trans_type: 'tcc', rollback_reason: 'FAILURE of the business' });
    expect(abort).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'failed');
  });
});

describe('the DTM listener', () => {
  it('is off unless dtmPort is set; with abandon configured, forceStop ends a transaction with no call and "abandoned by operator" as its reason', async () => {
    const off = await startCoordinator({ label: 'dtm_off' });
    try {
      expect(off.c.dtmUrl).toBe('');
    } finally {
      await off.close();
    }
    const f = await startDtmFixture({ dtmForceStop: 'abandon' });
    try {
      const gid = `abandon-${Date.now()}`;
      f.p.schedule(`/ab/${gid}`, 'ERROR');
      expect(await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
      expect(await dtmCall(f.dtm, 'registerBranch', { gid, branch_id: '01', trans_type: 'tcc', data: '{}', confirm: `${f.p.url}/ab/${gid}`, cancel: `${f.p.url}/ab-cancel` })).toMatchObject({ status: 200 });
      expect(await dtmCall(f.dtm, 'submit', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
      await eventually(async () => f.p.callsTo(`/ab/${gid}`).length >= 1);
      expect(await dtmCall(f.dtm, 'forceStop', { gid, reason: 'participant retired' })).toMatchObject({ status: 200, text: SUCCESS });
      const v1 = await api(f.running.url, 'GET', `/v1/transactions/${gid}`);
      expect(v1.body).toMatchObject({ status: 'committed', reason: 'abandoned by operator: participant retired', stuck: false, branches: [{ status: 'registered' }] });
      const calls = f.p.callsTo(`/ab/${gid}`).length;
      await new Promise((r) => setTimeout(r, 300));
      expect(f.p.callsTo(`/ab/${gid}`)).toHaveLength(calls);
      expect(f.p.callsTo('/ab-cancel')).toEqual([]);
      expect(await branchStatuses(f.dtm, gid)).toEqual(['prepared', 'prepared']);
    } finally {
      await f.close();
    }
  });
});
