import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RedisCluster } from '../support/redis-cluster.js';
import { requireService } from '../support/services.js';
import { LedgerParticipant } from './support/ledger.js';
import { expectAppliedOnce, Scenario, seedUnfinished } from './support/scenario.js';

// a Redis Cluster of this file's own (three masters, three replicas): its masters can be killed
const cluster = (await requireService('redis')) ? await RedisCluster.start() : null;
// one server store is enough here: what is under test is the queue on the cluster, not the log
const scenarios = cluster ? (await Scenario.perStore('rcluster', cluster.url())).slice(0, 1) : [];

let p: LedgerParticipant;
beforeAll(async () => {
  p = await LedgerParticipant.start();
});
afterAll(async () => {
  await cluster?.remove();
  await p?.close();
});

describe.each(scenarios)('recovery on a Redis Cluster, the log on %s', (_kind, s) => {
  afterAll(() => s.close());
  /** BullMQ on a cluster: every key of a queue in one slot, by the hash tag. */
  const prefix = `{${s.prefix}}`;

  test('workers keep recovering while the master holding the queues fails over to its replica', async () => {
    const c = await s.coordinator({ DTX_QUEUE_PREFIX: prefix });
    p.mode = { confirm: 'fail', cancel: 'fail' };
    const xids = await seedUnfinished(c.url, 20, () => [
      { branchId: 'a', action: 'w.debit', ...p.urls('w.debit') },
      { branchId: 'b', action: 'w.credit', ...p.urls('w.credit') },
    ]);
    const workers = await Promise.all([s.worker(4, { DTX_QUEUE_PREFIX: prefix }), s.worker(4, { DTX_QUEUE_PREFIX: prefix })]);
    // the workers retry and fail for a while: jobs and the sweep scheduler live on the master of the tag's slot
    await new Promise((r) => setTimeout(r, 1000));
    const master = cluster!.masterOf(prefix);
    await cluster!.failOver(master);
    expect(cluster!.masterOf(prefix)).not.toBe(master);
    p.mode = { confirm: 'ok', cancel: 'ok' };
    const failedOverAt = Date.now();

    const rows = await s.waitFor(xids, ['committed'], 25_000);
    expect(rows).toHaveLength(20);
    console.log(`[workers] after the master's failover, 20 pending transactions committed within ${Date.now() - failedOverAt} ms`);
    expectAppliedOnce(p, 'confirm', xids, ['a', 'b']);
    expect(workers.map((w) => w.proc.exitCode)).toEqual([null, null]);
    for (const w of workers) expect((await s.stop(w)).code).toBe(0);
    await c.kill('SIGTERM');
  });
});
