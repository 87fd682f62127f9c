import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LedgerParticipant } from './support/ledger.js';
import { expectAppliedOnce, Scenario, seedUnfinished } from './support/scenario.js';

const scenarios = await Scenario.perStore('drain');

let p: LedgerParticipant;
beforeAll(async () => {
  p = await LedgerParticipant.start();
});
afterAll(async () => {
  await p?.close();
});

describe.each(scenarios)('on a %s log', (_kind, scenario) => {
  afterAll(() => scenario.close());

  test('several workers drain a backlog of stuck transactions: each finished once, the work spread', async () => {
    const s = scenario;
    const c = await s.coordinator();
    p.mode = { confirm: 'fail', cancel: 'fail' };
    const branches = () => [
      { branchId: 'a', action: 'w.debit', ...p.urls('w.debit') },
      { branchId: 'b', action: 'w.credit', ...p.urls('w.credit') },
    ];
    const xids = await seedUnfinished(c.url, 90, branches);
    expect(await s.rows(xids)).toHaveLength(90);

    p.mode = { confirm: 'ok', cancel: 'ok' };
    const started = Date.now();
    const workers = await Promise.all([s.worker(4), s.worker(4), s.worker(4)]);
    const ready = Date.now();
    const rows = await s.waitFor(xids, ['committed'], 30_000);
    const drainMs = Date.now() - ready;
    const startMs = ready - started;

    expect(rows.every((r) => r.status === 'committed')).toBe(true);
    expectAppliedOnce(p, 'confirm', xids, ['a', 'b']);
    expect(p.calls('cancel')).toHaveLength(0);

    const stops = await Promise.all(workers.map((w) => s.stop(w)));
    expect(stops.map((x) => x.code)).toEqual([0, 0, 0]); // SIGTERM drains and exits cleanly
    const finished = stops.map((x) => x.stats.finished ?? 0);
    expect(finished.reduce((a, b) => a + b, 0)).toBe(90);
    expect(finished.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    console.log(`[workers] 90 stuck transactions drained by 3 workers in ${drainMs} ms after the workers were ready (starting them took ${startMs} ms); finished per worker: ${finished.join(', ')}`);
  });
});
