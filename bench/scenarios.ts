import { actionRef, branchOf } from '@dtx/participant-sdk';
import type { RegisterBranchRequest } from '@dtx/protocol';
import { Pool } from 'undici';
import { coordinatorTurns } from './coordinator-turns.js';

/** What the load generator needs to run one kind of transaction. */
export interface ScenarioConfig {
  scenario: string;
  /** No-op participants (bare, driven, initiator). */
  participants: string[];
  /** The coordinators the load goes to, each transaction to the next one in turn. */
  coordinatorUrls?: string[];
  /** Wallet servers (bank-bare: bench bare wallets; bank: the example wallets). */
  wallets?: string[];
  /** Accounts per wallet, named `acct-<n>`, each with enough balance for the run. */
  accounts?: number;
  concurrency: number;
}

export interface Scenario {
  run(): Promise<void>;
  close(): Promise<void>;
}

const pools = new Map<string, Pool>();
function pool(origin: string, connections: number): Pool {
  let p = pools.get(origin);
  if (!p) {
    p = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
    pools.set(origin, p);
  }
  return p;
}

async function post(base: string, path: string, body: unknown, connections: number): Promise<{ status: number; json: any }> {
  const u = new URL(path, base);
  const res = await pool(u.origin, connections).request({
    path: u.pathname,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : undefined };
}

function expectOk(what: string, r: { status: number; json: any }): void {
  if (r.status < 200 || r.status > 299) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.json)?.slice(0, 300)}`);
}

async function drive(what: string, coordinatorUrl: string, branches: RegisterBranchRequest[], connections: number): Promise<void> {
  const r = await post(coordinatorUrl, '/v1/transactions', { drive: true, branches }, connections);
  expectOk(what, r);
  if (r.json?.status !== 'committed') throw new Error(`${what}: ended ${r.json?.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
}

let seq = 0;
const benchXid = () => `bench-${process.pid}-${Date.now().toString(36)}-${(seq++).toString(36)}`;

const closePools = async () => {
  await Promise.allSettled([...pools.values()].map((p) => p.close()));
  pools.clear();
};

export async function createScenario(c: ScenarioConfig): Promise<Scenario> {
  const n = c.concurrency;
  const [p1, p2] = c.participants;
  switch (c.scenario) {
    case 'bare':
      // TCC's own calls, nobody logging anything: try both, then confirm both.
      return {
        run: async () => {
          const xid = benchXid();
          const body = (branchId: string, phase: string) => ({ xid, branchId, phase, payload: { amount: 1 } });
          const tries = await Promise.all([post(p1!, '/dtx/bench.a/try', body('a', 'try'), n), post(p2!, '/dtx/bench.b/try', body('b', 'try'), n)]);
          tries.forEach((r) => expectOk('try', r));
          const confirms = await Promise.all([post(p1!, '/dtx/bench.a/confirm', body('a', 'confirm'), n), post(p2!, '/dtx/bench.b/confirm', body('b', 'confirm'), n)]);
          confirms.forEach((r) => expectOk('confirm', r));
        },
        close: closePools,
      };
    // relay: the same request, answered by bench/relay.ts instead of the coordinator
    // driven-2c and galera*: the same request to other coordinators (bench/topology.ts)
    case 'relay':
    case 'driven':
    case 'driven-2c':
    case 'galera':
    case 'galera-direct':
    case 'galera-2c':
    case 'galera-2nodes': {
      const branches = [branchOf(actionRef(p1!, 'bench.a'), 'a', { amount: 1 }), branchOf(actionRef(p2!, 'bench.b'), 'b', { amount: 1 })];
      const coordinator = coordinatorTurns(c);
      return { run: () => drive(c.scenario, coordinator(), branches, n), close: closePools };
    }
    case 'saga': {
      const coordinator = coordinatorTurns(c);
      // the same two participants as driven, as a saga's two steps: each action called in turn, each logged done
      const step = (base: string, action: string, branchId: string) => ({ branchId, action, actionUrl: `${base}/dtx/${action}/action`, compensateUrl: `${base}/dtx/${action}/compensate`, payload: { amount: 1 } });
      const steps = [step(p1!, 'bench.a', 'a'), step(p2!, 'bench.b', 'b')];
      return {
        run: async () => {
          const r = await post(coordinator(), '/v1/transactions', { mode: 'saga', wait: true, steps }, n);
          expectOk('saga', r);
          if (r.json?.status !== 'committed') throw new Error(`saga: ended ${r.json?.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
        },
        close: closePools,
      };
    }
    case 'msg': {
      const coordinator = coordinatorTurns(c);
      // a message to the same two participants: prepared (nothing called), then committed with wait: both steps delivered
      const step = (base: string, action: string, branchId: string) => ({ branchId, action, actionUrl: `${base}/dtx/${action}/action`, payload: { amount: 1 } });
      const steps = [step(p1!, 'bench.a', 'a'), step(p2!, 'bench.b', 'b')];
      return {
        run: async () => {
          const xid = benchXid();
          const url = coordinator(); // both requests of one message to the same coordinator
          expectOk('msg prepare', await post(url, '/v1/transactions', { mode: 'msg', xid, checkUrl: `${p1}/dtx/_msg/check`, steps }, n));
          const r = await post(url, `/v1/transactions/${xid}/commit`, { wait: true }, n);
          expectOk('msg commit', r);
          if (r.json?.status !== 'committed') throw new Error(`msg: ended ${r.json?.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
        },
        close: closePools,
      };
    }
    case 'initiator': {
      const { initiatorScenario } = await import('./scenario-initiator.js');
      return initiatorScenario(c);
    }
    case 'bank-bare':
    case 'bank':
    case 'bank-xa':
    case 'bank-fmt': {
      const { bankScenario } = await import('./scenario-bank.js');
      const coordinator = c.scenario === 'bank-bare' ? () => '' : coordinatorTurns(c);
      return bankScenario(c, {
        post: (base, path, body) => post(base, path, body, n),
        expectOk,
        drive: (branches) => drive(c.scenario, coordinator(), branches, n),
        closePools,
      });
    }
    default:
      throw new Error(`unknown scenario ${c.scenario}`);
  }
}

export interface HttpHelpers {
  post(base: string, path: string, body: unknown): Promise<{ status: number; json: any }>;
  expectOk(what: string, r: { status: number; json: any }): void;
  /** One driven-mode transaction on the coordinator; throws unless it ends committed. */
  drive(branches: RegisterBranchRequest[]): Promise<void>;
  closePools(): Promise<void>;
}
