import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DTX_CLI } from '../support/coordinator-process.js';
import { api } from '../support/http.js';
import { LedgerParticipant } from './support/ledger.js';
import { expectAppliedOnce, Scenario, seedUnfinished } from './support/scenario.js';

const scenarios = await Scenario.perStore('retry');

let p: LedgerParticipant;
beforeAll(async () => {
  p = await LedgerParticipant.start();
});
afterAll(async () => {
  await p?.close();
});

describe.each(scenarios)('on a %s log', (_kind, scenario) => {
  afterAll(() => scenario.close());

  test('POST /retry and `dtx tx retry` hand the transaction to the workers now, long before its backoff or the next sweep', async () => {
    const s = scenario;
    // a 60 s backoff and a 60 s sweep interval: only the enqueue can make it finish within seconds
    const slow = { DTX_RETRY_BASE_MS: '60000', DTX_RETRY_MAX_MS: '120000', DTX_SWEEP_INTERVAL_MS: '60000' };
    const c = await s.coordinator(slow);
    p.mode = { confirm: 'fail', cancel: 'fail' };
    const [viaApi, viaCli] = await seedUnfinished(c.url, 2, () => [{ branchId: 'a', action: 'w.debit', ...p.urls('w.debit') }]);
    const w = await s.worker(2, slow);
    await new Promise((r) => setTimeout(r, 500)); // the worker's first sweep has come and gone
    p.mode = { confirm: 'ok', cancel: 'ok' };

    const r = await api(c.url, 'POST', `/v1/transactions/${viaApi}/retry`);
    expect(r.status).toBe(202);
    await s.waitFor([viaApi!], ['committed'], 5000);

    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DTX_')));
    const out = await promisify(execFile)(process.execPath, [...DTX_CLI, 'tx', 'retry', viaCli!], { env: { ...clean, ...s.env(slow) } });
    expect(JSON.parse(out.stdout)).toMatchObject({ xid: viaCli, status: 'committing', retried: true, enqueued: true });
    await s.waitFor([viaCli!], ['committed'], 5000);
    expectAppliedOnce(p, 'confirm', [viaApi!, viaCli!], ['a']);
    expect((await s.stop(w)).stats.finished).toBe(2);
  });
});
