import { TryDeadlineError, TxNotTryingError, TxRolledBackError } from '@dtx/participant-sdk';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { waitForStatus } from './support/coordinator.js';
import { useProbeStage } from './support/probe-stage.js';

describe('transaction(): tries, retries and deadlines', () => {
  const stage = useProbeStage('probe');
  const setUp = () => stage.setUp();

  it('a try that fails transiently (HTTP 500) is retried and the transaction commits with its result', async () => {
    const { client, probe } = await setUp();
    const outcome = await client.transaction(async (tx) => tx.call(probe, { do: 'ok', failAttempts: 2 }), { timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ status: 'committed', result: { attempt: 3 } });
    const view = await client.get(outcome.xid);
    expect(view.branches).toMatchObject([{ status: 'confirmed' }]);
    // Confirm got the payload and what try returned (reported by the initiator).
    expect(stage.participant.phase2).toEqual([
      { phase: 'confirm', xid: outcome.xid, payload: { do: 'ok', failAttempts: 2 }, tryResult: { attempt: 3, xid: outcome.xid } },
    ]);
  });

  it('a try that keeps failing until the deadline rolls the transaction back', async () => {
    const { client, probe } = await setUp();
    const started = Date.now();
    const outcome = await client.transaction(async (tx) => tx.call(probe, { do: 'crash' }), { timeoutMs: 1500 });
    expect(outcome.status).toMatch(/^rolled_back|rolling_back$/);
    expect('error' in outcome && outcome.error).toBeInstanceOf(TryDeadlineError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    await waitForStatus(client, outcome.xid, 'rolled_back');
  });

  it('a branch registered after the deadline rollback is a clear TxNotTryingError, and the outcome is rolled back', async () => {
    const { client, probe } = await setUp();
    const outcome = await client.transaction(
      async (tx) => {
        await tx.call(probe, { do: 'ok' }, { branchId: 'first' }); // begins the transaction
        await sleep(1800); // past the 1 s deadline; recovery sweeps every 100 ms
        return tx.call(probe, { do: 'ok' }, { branchId: 'late' });
      },
      { timeoutMs: 1000 },
    );
    expect(outcome.status).toMatch(/^rolled_back|rolling_back$/);
    const error = 'error' in outcome ? outcome.error : undefined;
    expect(error).toBeInstanceOf(TxNotTryingError);
    expect(error!.message).toMatch(/TX_NOT_TRYING/);
    const view = await waitForStatus(client, outcome.xid, 'rolled_back');
    expect(view.branches.map((b) => [b.branchId, b.status])).toEqual([['first', 'cancelled']]);
  });

  it('a first call made after the deadline tries nothing: TryDeadlineError, and the transaction is rolled back', async () => {
    const { client, probe } = await setUp();
    const outcome = await client.transaction(
      async (tx) => {
        await sleep(1200); // past the 1 s deadline, counted from transaction()'s start
        return tx.call(probe, { do: 'ok' });
      },
      { timeoutMs: 1000 },
    );
    expect(outcome.status).toMatch(/^rolled_back|rolling_back$/);
    expect('error' in outcome && outcome.error).toBeInstanceOf(TryDeadlineError);
    const view = await waitForStatus(client, outcome.xid, 'rolled_back');
    expect(view.branches).toEqual([]); // never registered, so never tried nor cancelled
    expect(stage.participant.phase2).toEqual([]);
  });

  it('a body that returns after the deadline gets the rollback recovery decided, not a commit, and waits for it to finish', async () => {
    const { client, probe } = await setUp();
    const started = Date.now();
    const outcome = await client.transaction(
      async (tx) => {
        // The cancel recovery sends at the 1 s deadline is still running when the commit is refused.
        await tx.call(probe, { do: 'ok', cancelDelayMs: 1500 });
        await sleep(1500);
      },
      { timeoutMs: 1000 },
    );
    // wait defaults to true: the outcome is final, not the rolling_back the commit was refused with.
    expect(outcome.status).toBe('rolled_back');
    expect('error' in outcome && outcome.error).toBeInstanceOf(TxRolledBackError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect((await client.get(outcome.xid)).status).toBe('rolled_back');
    expect(stage.participant.phase2.map((p) => p.phase)).toEqual(['cancel']);
  });

  it('the body throwing rolls back and hands back what it threw', async () => {
    const { client, probe } = await setUp();
    const boom = new Error('initiator changed its mind');
    const outcome = await client.transaction(
      async (tx) => {
        await tx.call(probe, { do: 'ok' });
        throw boom;
      },
      { timeoutMs: 10_000 },
    );
    expect(outcome).toMatchObject({ status: 'rolled_back', error: boom });
    expect((await client.get(outcome.xid)).branches).toMatchObject([{ status: 'cancelled' }]);
    expect(stage.participant.phase2).toEqual([{ phase: 'cancel', xid: outcome.xid, payload: { do: 'ok' }, tryResult: { attempt: 1, xid: outcome.xid } }]);
  });
});
