import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LedgerParticipant } from './support/ledger.js';
import { expectAppliedOnce, Scenario, seedUnfinished } from './support/scenario.js';

const scenarios = await Scenario.perStore('circuit');

let dead: LedgerParticipant;
let healthy: LedgerParticipant;
beforeAll(async () => {
  dead = await LedgerParticipant.start();
  healthy = await LedgerParticipant.start();
});
afterAll(async () => {
  await dead?.close();
  await healthy?.close();
});

describe.each(scenarios)('on a %s log', (_kind, scenario) => {
  afterAll(() => scenario.close());

  test('one participant dead, one healthy, concurrency 2: the healthy one\'s transactions still finish promptly', async () => {
    const s = scenario;
    const c = await s.coordinator();
    dead.mode = { confirm: 'fail', cancel: 'fail' };
    healthy.mode = { confirm: 'fail', cancel: 'fail' };
    // the dead origin's backlog is older, so it is first in line
    const toDead = await seedUnfinished(c.url, 30, () => [{ branchId: 'd', action: 'w.dead', ...dead.urls('w.dead') }]);
    const toHealthy = await seedUnfinished(c.url, 10, () => [{ branchId: 'h', action: 'w.ok', ...healthy.urls('w.ok') }]);

    // dead: every call hangs past the 1 s call timeout; healthy: back to normal
    dead.mode = { confirm: 'hang', cancel: 'hang' };
    healthy.mode = { confirm: 'ok', cancel: 'ok' };
    const before = dead.calls('confirm').length;
    const env = { DTX_CIRCUIT_FAILURES: '2', DTX_CIRCUIT_OPEN_MS: '3000', DTX_RETRY_MAX_MS: '4000' };
    const w = await s.worker(2, env);
    const ready = Date.now();
    await s.waitFor(toHealthy, ['committed'], 8000);
    const healthyMs = Date.now() - ready;
    // without the circuit, 30 hanging calls two at a time hold both slots for 15 s
    expect(healthyMs).toBeLessThan(6000);
    const deadCalls = dead.calls('confirm').length - before;
    expect(deadCalls).toBeLessThan(10);
    expectAppliedOnce(healthy, 'confirm', toHealthy, ['h']);
    const deadRows = await s.rows(toDead);
    expect(deadRows.every((r) => r.status === 'committing')).toBe(true);
    expect(deadRows.filter((r) => /circuit open/.test(r.lastError ?? '')).length).toBeGreaterThan(20);
    console.log(`[workers] healthy origin's 10 transactions committed ${healthyMs} ms after the worker was ready, while 30 to a dead origin waited; dead origin got ${deadCalls} calls`);

    // the dead participant comes back: a half-open probe succeeds and the rest follow
    dead.mode = { confirm: 'ok', cancel: 'ok' };
    await s.waitFor(toDead, ['committed'], 20_000);
    expectAppliedOnce(dead, 'confirm', toDead, ['d']);
    const { code, stats } = await s.stop(w);
    expect(code).toBe(0);
    expect(stats.heldBackByCircuit).toBeGreaterThan(20);
  });
});
