import { existsSync, readFileSync } from 'node:fs';
import { knexFromUrl } from '@dtx/participant-sdk';
import type { TxStatus } from '@dtx/protocol';
import { TIMINGS, type Cluster } from './cluster.js';
import type { FaultLog } from './faults.js';
import { ACCOUNTS, OPENING_BALANCE, type Op } from './load.js';
import type { Overlap } from './wallet-process.js';
import { STORE_OUTAGE_ANSWER_MS } from './faults.js';
import { checkMessages, type MsgFindings } from './msg-checks.js';
import { checkSagas, type LogBranch, type SagaFindings } from './saga-checks.js';

const FINAL = new Set<TxStatus>(['committed', 'rolled_back']);
const side = (s: TxStatus) => (s === 'committed' || s === 'committing' ? 'commit' : s === 'trying' ? 'none' : 'rollback');

/**
 * Two confirm/cancel calls of one branch overlapping closer than this were sent by two
 * drivers at once: a legal second driver starts only after the first one's call answered or
 * timed out (callTimeoutMs), and the proxy delays a call by at most 600 ms; 300 ms more
 * allows for a busy event loop.
 */
export const DRIVER_OVERLAP_MS = TIMINGS.callTimeoutMs - 600 - 300;

/** A lane's transactions by how they ended. */
export interface LaneCounts {
  begun: number;
  committed: number;
  rolledBack: number;
  neverLogged: number;
  notTold: number;
}

export interface CheckResult {
  violations: string[];
  counts: LaneCounts & { initiatorThrew: number; benignOverlaps: number; lanes: Record<string, LaneCounts>; saga: SagaFindings; msg: MsgFindings };
}

interface BarrierRow {
  xid: string;
  branch_id: string;
  op: string;
}

export async function checkInvariants(c: Cluster, ops: Op[], faults: FaultLog): Promise<CheckResult> {
  const v: string[] = [...faults.violations];
  const log = knexFromUrl(c.logUrl);
  const walletDbs = [knexFromUrl(c.wallets.a.databaseUrl), knexFromUrl(c.wallets.b.databaseUrl)];
  try {
    const logged = (await log('dtx_global_tx').select('xid', 'status', 'tx_mode')) as { xid: string; status: TxStatus; tx_mode: string }[];
    const txs = new Map(logged.map((r) => [r.xid, r.status]));
    const modes = new Map(logged.map((r) => [r.xid, { status: r.status as string, mode: r.tx_mode }]));
    const branches = (await log('dtx_branch').select('xid', 'branch_id', 'status')) as LogBranch[];
    const lanes: Record<string, LaneCounts> = {};
    const counts = { begun: ops.length, committed: 0, rolledBack: 0, neverLogged: 0, notTold: 0, initiatorThrew: 0, benignOverlaps: 0, lanes };
    // the whole load's counts and its lane's, together
    const count = (lane: LaneCounts, key: Exclude<keyof LaneCounts, 'begun'>) => {
      counts[key]++;
      lane[key]++;
    };

    for (const op of ops) {
      const status = txs.get(op.xid);
      const lane = (lanes[op.mode] ??= { begun: 0, committed: 0, rolledBack: 0, neverLogged: 0, notTold: 0 });
      lane.begun++;
      if (op.threw) counts.initiatorThrew++;
      if (!op.told) count(lane, 'notTold');
      if (status === undefined) {
        count(lane, 'neverLogged');
        if (op.told) v.push(`${op.xid}: its client was told ${op.told}, yet it is not in the log`);
        continue;
      }
      if (status === 'committed') count(lane, 'committed');
      if (status === 'rolled_back') count(lane, 'rolledBack');
      if (op.told && side(op.told) !== side(status)) v.push(`${op.xid}: its client was told ${op.told}, the log says ${status}`);
      const loggedAs = modes.get(op.xid)!.mode;
      if (loggedAs !== (op.mode === 'saga' || op.mode === 'msg' ? op.mode : 'tcc')) v.push(`${op.xid}: begun as ${op.mode}, logged as ${loggedAs}`);
    }
    for (const [xid, status] of txs) if (!FINAL.has(status)) v.push(`${xid} is still ${status} after quiescence`);
    const tcc = branches.filter((b) => modes.get(b.xid)?.mode === 'tcc');
    for (const b of tcc) {
      const status = txs.get(b.xid);
      if (status === 'committed' && b.status !== 'confirmed') v.push(`${b.xid}/${b.branch_id} is ${b.status} in a committed transaction`);
      if (status === 'rolled_back' && b.status !== 'cancelled') v.push(`${b.xid}/${b.branch_id} is ${b.status} in a rolled-back transaction`);
    }
    const saga = await checkSagas(modes, branches, walletDbs, v);
    const msg = await checkMessages(ops, modes, branches, walletDbs, v);

    // The participants' own record: what each barrier says was confirmed or cancelled.
    const rows = (await Promise.all(walletDbs.map((k) => k('dtx_barrier').whereIn('op', ['confirm', 'cancel']).select('xid', 'branch_id', 'op')))).flat() as BarrierRow[];
    const ops2 = new Map<string, Set<string>>();
    for (const r of rows) {
      const key = `${r.xid}/${r.branch_id}`;
      ops2.set(key, (ops2.get(key) ?? new Set()).add(r.op));
    }
    for (const [key, set] of ops2) if (set.size > 1) v.push(`${key} was both confirmed and cancelled at its wallet`);
    for (const b of tcc) {
      const done = ops2.get(`${b.xid}/${b.branch_id}`);
      const status = txs.get(b.xid);
      if (status === 'committed' && !done?.has('confirm')) v.push(`${b.xid}/${b.branch_id}: committed, but its wallet has no confirm`);
      if (status === 'rolled_back' && done?.has('confirm')) v.push(`${b.xid}/${b.branch_id}: rolled back, but its wallet confirmed it`);
    }

    // Money: nothing created or lost, nothing left reserved, nobody below zero.
    let total = 0;
    for (const k of walletDbs) {
      for (const a of (await k('accounts').select('id', 'balance', 'frozen', 'incoming')) as { id: string; balance: number; frozen: number; incoming: number }[]) {
        total += Number(a.balance);
        if (Number(a.frozen) !== 0 || Number(a.incoming) !== 0) v.push(`account ${a.id}: frozen ${a.frozen}, incoming ${a.incoming} after quiescence`);
        if (Number(a.balance) < 0) v.push(`account ${a.id}: balance ${a.balance}`);
      }
    }
    const opening = (ACCOUNTS.a.length + ACCOUNTS.b.length) * OPENING_BALANCE;
    if (total !== opening) v.push(`money is not conserved: ${total} in all accounts, ${opening} at the start`);

    for (const wallet of [c.wallets.a, c.wallets.b]) {
      if (!existsSync(wallet.overlapLog)) continue;
      for (const line of readFileSync(wallet.overlapLog, 'utf8').split('\n').filter(Boolean)) {
        const o = JSON.parse(line) as Overlap;
        const gap = o.second.at - o.first.at;
        if (gap < DRIVER_OVERLAP_MS) v.push(`${o.branch}: ${o.second.phase} #${o.second.attempt} arrived ${gap} ms after ${o.first.phase} #${o.first.attempt}, still running: two drivers at once`);
        else counts.benignOverlaps++;
      }
    }

    for (const a of faults.outageAnswers) {
      const ok = a.status === 503 && a.code === 'STORE_UNAVAILABLE' && a.retryAfter !== undefined && a.ms <= STORE_OUTAGE_ANSWER_MS;
      if (!ok) v.push(`a write while the log's database was down answered ${a.status ?? 'nothing'} ${a.code ?? ''} (Retry-After ${a.retryAfter ?? 'none'}) in ${Math.round(a.ms)} ms`);
    }
    for (const child of c.all()) v.push(...child.crashes);
    v.push(...c.topology.crashes());
    return { violations: v, counts: { ...counts, saga, msg } };
  } finally {
    await log.destroy();
    for (const k of walletDbs) await k.destroy();
  }
}
