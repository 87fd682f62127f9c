import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { eventually } from '../support/http.js';
import { freshDatabase, requireService, type FreshDatabase } from '../support/services.js';
import { dtmCall, globalStatus } from './support/dtm-client.js';
import { DtmBarrierBank } from './support/dtm-barrier-bank.js';
import { startDtmFixture, type DtmFixture } from './support/dtm-fixture.js';

const TRANSFERS = 40;
const START = { A: 1000, B: 1000, C: 1000 };

/**
 * DTM's way of moving money, end to end: a DTM-style participant with DTM's barrier
 * semantics (keyed on the query parameters this surface sends) takes TCC and saga
 * transfers at once, failing at random before and after its business and refusing some
 * incoming ones; the log and the bank are on MariaDB. Once every transaction has
 * ended, no money was made or lost and no account went below zero.
 */
describe.runIf(await requireService('mysql'))('DTM-style transfers through TCC and saga with random failures', () => {
  let f: DtmFixture;
  let bankDb: FreshDatabase;
  let bank: DtmBarrierBank;
  beforeAll(async () => {
    f = await startDtmFixture({ kind: 'mysql', retryMaxMs: 200 });
    bankDb = await freshDatabase('mysql', 'dtm_bank');
    bank = await (await DtmBarrierBank.open(bankDb.url, { before: 0.15, after: 0.15, refuseIn: 0.1 })).start();
    await bank.seed(START);
  });
  afterAll(async () => {
    await bank?.close();
    await f?.close();
    await bankDb?.drop();
  });

  /** dtmcli's TCC flow: prepare, register then try each branch itself, submit, or abort on any error. */
  async function tcc(gid: string, body: string): Promise<void> {
    await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'tcc', request_timeout: 2 });
    try {
      for (const [id, route] of [['01', 'out'], ['02', 'in']] as const) {
        const reg = { gid, branch_id: id, trans_type: 'tcc', status: 'prepared', data: body, confirm: `${bank.url}/tcc/${route}`, cancel: `${bank.url}/tcc/${route}` };
        const r = await dtmCall(f.dtm, 'registerTccBranch', reg);
        if (r.status !== 200) throw new Error(`register: ${r.status}`);
        const tried = await request(`${bank.url}/tcc/${route}?gid=${gid}&trans_type=tcc&branch_id=${id}&op=try`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        await tried.body.text();
        if (tried.statusCode !== 200) throw new Error(`try: ${tried.statusCode}`);
      }
      const s = await dtmCall(f.dtm, 'submit', { gid, trans_type: 'tcc' });
      if (s.status !== 200) throw new Error(`submit: ${s.status}`);
    } catch {
      await dtmCall(f.dtm, 'abort', { gid, trans_type: 'tcc' });
    }
  }

  async function saga(gid: string, body: string): Promise<void> {
    const r = await dtmCall(f.dtm, 'submit', {
      gid,
      trans_type: 'saga',
      steps: [{ action: `${bank.url}/saga/out`, compensate: `${bank.url}/saga/out` }, { action: `${bank.url}/saga/in`, compensate: `${bank.url}/saga/in` }],
      payloads: [body, body],
      request_timeout: 2,
    });
    expect(r.status).toBe(200);
  }

  it('conserves the total and never overdraws, every transaction finished', async () => {
    const ids = Object.keys(START);
    const gids: string[] = [];
    await Promise.all(
      Array.from({ length: TRANSFERS }, async (_, i) => {
        const from = ids[i % 3]!;
        const to = ids[(i + 1) % 3]!;
        const body = JSON.stringify({ from, to, amount: 50 + (i % 7) * 40 });
        const gid = `bank-${i}-${Date.now()}`;
        gids.push(gid);
        await (i % 2 === 0 ? tcc(gid, body) : saga(gid, body));
      }),
    );
    const finals = await eventually(async () => {
      const s = await Promise.all(gids.map((g) => globalStatus(f.dtm, g)));
      return s.every((x) => x === 'succeed' || x === 'failed') ? s : null;
    }, 60_000, 200);
    const balances = await bank.balances();
    expect(Object.values(balances).reduce((a, b) => a + b, 0)).toBe(3000);
    for (const v of Object.values(balances)) expect(v).toBeGreaterThanOrEqual(0);
    // the faults did happen, and both outcomes occurred
    expect(bank.stats.faults).toBeGreaterThan(0);
    expect(finals).toContain('succeed');
    expect(finals).toContain('failed');
  });
});
