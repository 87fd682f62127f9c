import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCoordinator, type Running } from '../support/coordinator.js';
import { GaleraCluster, galeraInstalled, haproxyInstalled } from '../support/galera.js';
import { expectOneDecision } from '../support/decision-race.js';
import { api, eventually, type JsonResponse } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { requireInstalled, type FreshDatabase } from '../support/services.js';

const installed = requireInstalled('galera-4 with HAProxy', galeraInstalled() && haproxyInstalled());
const DATABASE = 'dtx_galera';
const FINAL = ['committed', 'rolled_back'];
/** No answer may take longer: the log's own bound is 3 s a batch, twice over for a write queued behind one. */
const ANSWER_BOUND_MS = 10_000;

/**
 * The coordinator's log on a three-node Galera cluster: coordinators write through different
 * nodes (multi-primary), so a race between them is decided by Galera's certification, which
 * fails the loser's COMMIT with a deadlock error; a node that dies or loses the cluster
 * must cost a 503 at most, and nothing a client was told is lost.
 */
describe.skipIf(!installed)('the log on a three-node Galera cluster', () => {
  let cluster: GaleraCluster;
  let p: TestParticipant;
  /** Through node 0, through node 1, through HAProxy (first available: node 0, then node 1). */
  let viaNode0: Running;
  let viaNode1: Running;
  let viaProxy: Running;

  const shared = (url: string): FreshDatabase => ({ kind: 'mysql', url, drop: async () => {} });

  beforeAll(async () => {
    cluster = (await GaleraCluster.start({ haproxy: true }))!;
    p = await startParticipant();
    // one after the other: the first creates the database and its tables on every node
    viaNode0 = await startCoordinator({ db: shared(cluster.url(0, DATABASE)) });
    viaNode1 = await startCoordinator({ db: shared(cluster.url(1, DATABASE)) });
    viaProxy = await startCoordinator({ db: shared(cluster.proxyUrl(DATABASE)) });
  }, 120_000);
  afterAll(async () => {
    for (const c of [viaNode0, viaNode1, viaProxy]) await c?.close();
    await p?.close();
    await cluster?.remove();
  });

  async function beginWithBranches(base: string, timeoutMs = 30_000): Promise<string> {
    const b = await api(base, 'POST', '/v1/transactions', { timeoutMs });
    expect(b.status).toBe(201);
    for (const id of ['debit', 'credit']) {
      const r = await api(base, 'POST', `/v1/transactions/${b.body.xid}/branches`, { branchId: id, action: `g.${id}`, ...p.urls(`g.${id}`) });
      expect(r.status).toBe(201);
    }
    return b.body.xid;
  }

  const finalStatus = (base: string, xid: string) =>
    eventually(async () => {
      const g = await api(base, 'GET', `/v1/transactions/${xid}`);
      return FINAL.includes(g.body?.status) ? (g.body as { status: string; reason?: string }) : null;
    });

  test('commits and rollbacks racing through two nodes decide once; the loser answers the winner', async () => {
    const nodes = [viaNode0.url, viaNode1.url];
    // a transaction of one node that lost to the other's: failed certification at COMMIT, or aborted by the applier
    const counters = ['wsrep_local_cert_failures', 'wsrep_local_bf_aborts'];
    const conflicts = async () => {
      let n = 0;
      for (const i of [0, 1]) for (const name of counters) n += await cluster.status(i, name);
      return n;
    };
    const conflictsBefore = await conflicts();
    // at least 6 rounds, and on until the nodes have been in conflict (a tie is timing: it takes a few rounds at most)
    let rounds = 0;
    for (; rounds < 6 || (rounds < 40 && (await conflicts()) === conflictsBefore); rounds++) {
      const round = rounds;
      const xid = await beginWithBranches(nodes[round % 2]!);
      const verbs = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 'commit' : 'rollback'));
      // every other request goes through the other node, so the two sides are certified against each other
      const answers = await Promise.all(verbs.map((v, i) => api(nodes[Math.floor(i / 2) % 2]!, 'POST', `/v1/transactions/${xid}/${v}`, {}).then((r) => ({ v, ...r }))));
      const final = await finalStatus(viaNode0.url, xid);
      expect((await finalStatus(viaNode1.url, xid)).status).toBe(final.status);
      expectOneDecision(answers, final.status, p, xid, ['debit', 'credit']);
    }
    // the races were decided by certification: losers' COMMITs failed with a deadlock and were re-read, not answered 500
    const seen = (await conflicts()) - conflictsBefore;
    console.log(`[galera] ${rounds} races of 30 requests through two nodes: ${seen} certification conflicts or applier aborts, one decision each`);
    expect(seen).toBeGreaterThan(0);
  });

  test('what one node acknowledged, the next read through another node sees (wsrep_sync_wait)', async () => {
    for (let i = 0; i < 60; i++) {
      const b = await api(viaNode0.url, 'POST', '/v1/transactions', { timeoutMs: 30_000 });
      expect(b.status).toBe(201);
      const g = await api(viaNode1.url, 'GET', `/v1/transactions/${b.body.xid}`);
      expect(g.status).toBe(200);
      const r = await api(viaNode0.url, 'POST', `/v1/transactions/${b.body.xid}/rollback`, {});
      expect(r.status).toBeLessThan(300);
      expect((await api(viaNode1.url, 'POST', `/v1/transactions/${b.body.xid}/commit`, {})).body.error?.code).toBe('TX_ROLLED_BACK');
    }
  });

  test('a node cut off from the cluster (1047 on every statement) answers 503 at once, and serves again once back', async () => {
    const xid = await beginWithBranches(viaNode1.url);
    await cluster.isolate(1, true);
    try {
      await eventually(async () => (await api(viaNode1.url, 'POST', '/v1/transactions', { timeoutMs: 5000 })).status === 503, 15_000);
      for (const [method, path] of [['POST', '/v1/transactions'], ['POST', `/v1/transactions/${xid}/commit`], ['GET', `/v1/transactions/${xid}`]] as const) {
        const t0 = Date.now();
        const r = await api(viaNode1.url, method, path, method === 'POST' ? {} : undefined);
        expect(Date.now() - t0).toBeLessThan(ANSWER_BOUND_MS);
        expect(r.status).toBe(503);
        expect(r.body.error.code).toBe('STORE_UNAVAILABLE');
      }
      // the rest of the cluster decides meanwhile
      expect((await api(viaNode0.url, 'POST', `/v1/transactions/${xid}/commit`, {})).status).toBeLessThan(300);
    } finally {
      await cluster.isolate(1, false);
    }
    expect((await finalStatus(viaNode1.url, xid)).status).toBe('committed');
  });

  test('a node killed under load: answers or 503, never a hang; nothing acknowledged is lost; it rejoins', async () => {
    const outcomes: { base: string; xid?: string; begin: number; commit?: JsonResponse; ms: number }[] = [];
    let stop = false;
    async function client(base: string): Promise<void> {
      while (!stop) {
        const t0 = Date.now();
        const b = await api(base, 'POST', '/v1/transactions', { timeoutMs: 5000 });
        const o: (typeof outcomes)[number] = { base, begin: b.status, ms: 0 };
        outcomes.push(o);
        if (b.status === 201) {
          o.xid = b.body.xid;
          const r = await api(base, 'POST', `/v1/transactions/${o.xid}/branches`, { branchId: 'only', action: 'g.load', ...p.urls('g.load') });
          if (r.status === 201) o.commit = await api(base, 'POST', `/v1/transactions/${o.xid}/commit`, {});
          else expect(r.status).toBe(503);
        } else {
          expect(b.status).toBe(503);
          expect(b.body.error.code).toBe('STORE_UNAVAILABLE');
          await new Promise((r) => setTimeout(r, 100)); // as its Retry-After says, only sooner
        }
        o.ms = Date.now() - t0;
      }
    }
    const clients = [viaNode0.url, viaNode0.url, viaProxy.url, viaProxy.url, viaNode1.url].map(client);
    await new Promise((r) => setTimeout(r, 1500));
    const killedAt = outcomes.length;
    await cluster.kill(0); // the node the proxy sends everything to, and viaNode0's only node
    await new Promise((r) => setTimeout(r, 4000));
    stop = true;
    await Promise.all(clients);

    for (const o of outcomes) expect(o.ms).toBeLessThan(ANSWER_BOUND_MS);
    const committedAfterKill = outcomes.slice(killedAt).filter((o) => o.base !== viaNode0.url && [200, 202].includes(o.commit?.status ?? 0));
    expect(committedAfterKill.length).toBeGreaterThan(0); // the proxy failed over; node 1 never stopped
    for (const o of outcomes) {
      if (o.commit) expect([200, 202, 503]).toContain(o.commit.status);
      if (o.commit?.status === 503) expect(o.commit.body.error.code).toBe('STORE_UNAVAILABLE');
    }
    // every transaction begun exists on the surviving nodes; every commit acknowledged ends committed
    for (const o of outcomes.filter((x) => x.xid)) {
      const final = await finalStatus(viaNode1.url, o.xid!);
      if ([200, 202].includes(o.commit?.status ?? 0)) expect(final.status).toBe('committed');
    }

    await cluster.restart(0);
    // viaNode0 answers again once its node is back, and the node holds what was written without it
    const last = committedAfterKill.at(-1)!;
    const g = await eventually(async () => {
      const r = await api(viaNode0.url, 'GET', `/v1/transactions/${last.xid}`);
      return r.status === 200 ? r : null;
    });
    expect(g.body.status).toBe('committed');
    const xid = await beginWithBranches(viaNode0.url);
    expect((await api(viaNode0.url, 'POST', `/v1/transactions/${xid}/commit`, {})).status).toBeLessThan(300);
    expect((await finalStatus(viaNode1.url, xid)).status).toBe('committed');
  }, 120_000);
});
