import type { Knex } from 'knex';
import { SAGA_ACCOUNTS, SAGA_OPENING_BALANCE } from './saga-wallet.js';

export interface LogBranch {
  xid: string;
  branch_id: string;
  status: string;
}

/** What the saga lane's checks found besides violations. */
export interface SagaFindings {
  /** Steps applied and compensated (from the wallets' journals), and compensations of steps whose action never ran. */
  applied: number;
  compensated: number;
  emptyCompensations: number;
  /** Saga accounts below zero: a credit compensated after its money moved on (sagas do not isolate). */
  belowZero: number;
}

/**
 * PROTOCOL.md v1.2 "Saga", checked against the wallets' own records: a committed saga has
 * every step applied once and none compensated; a rolled-back one has every step its
 * wallet saw compensated once (an applied one undone once), and none it never saw
 * touched; the saga accounts hold the money they started with.
 */
export async function checkSagas(txs: Map<string, { status: string; mode: string }>, branches: LogBranch[], wallets: Knex[], v: string[]): Promise<SagaFindings> {
  const found: SagaFindings = { applied: 0, compensated: 0, emptyCompensations: 0, belowZero: 0 };
  const moves = new Map<string, { action: number; compensate: number }>();
  const barrier = new Map<string, Map<string, string>>(); // xid/branch → op → reason
  for (const k of wallets) {
    for (const m of (await k('saga_moves').select('xid', 'branch_id', 'kind')) as { xid: string; branch_id: string; kind: 'action' | 'compensate' }[]) {
      const key = `${m.xid}/${m.branch_id}`;
      const count = moves.get(key) ?? { action: 0, compensate: 0 };
      count[m.kind]++;
      moves.set(key, count);
    }
    for (const r of (await k('saga_barrier').select('xid', 'branch_id', 'op', 'reason')) as { xid: string; branch_id: string; op: string; reason: string }[]) {
      const key = `${r.xid}/${r.branch_id}`;
      barrier.set(key, (barrier.get(key) ?? new Map<string, string>()).set(r.op, r.reason));
    }
  }
  for (const b of branches) {
    const tx = txs.get(b.xid);
    if (tx?.mode !== 'saga') continue;
    const key = `${b.xid}/${b.branch_id}`;
    const m = moves.get(key) ?? { action: 0, compensate: 0 };
    const rows = barrier.get(key);
    found.applied += m.action;
    found.compensated += m.compensate;
    if (rows?.get('action') === 'compensate') found.emptyCompensations++;
    if (m.action > 1 || m.compensate > 1) v.push(`${key}: applied ${m.action} times, compensated ${m.compensate} times at its wallet`);
    if (tx.status === 'committed') {
      if (b.status !== 'done') v.push(`${key} is ${b.status} in a committed saga`);
      if (m.action !== 1 || rows?.has('compensate')) v.push(`${key}: committed saga, but its wallet applied it ${m.action} times${rows?.has('compensate') ? ' and compensated it' : ''}`);
    } else if (tx.status === 'rolled_back') {
      if (b.status !== 'compensated' && b.status !== 'registered') v.push(`${key} is ${b.status} in a rolled-back saga`);
      if (m.action !== m.compensate) v.push(`${key}: rolled-back saga, applied ${m.action} times but compensated ${m.compensate} times`);
      if (rows && !rows.has('compensate')) v.push(`${key}: rolled-back saga, its wallet saw the step but never its compensation`);
      if (b.status === 'compensated' && !rows?.has('compensate')) v.push(`${key} is compensated in the log, but its wallet has no compensation`);
      if (b.status === 'registered' && rows) v.push(`${key}: never called, yet its wallet has ${[...rows.keys()].join(', ')}`);
    }
  }
  let total = 0;
  for (const k of wallets) {
    for (const a of (await k('saga_accounts').select('id', 'balance')) as { id: string; balance: number }[]) {
      total += Number(a.balance);
      if (Number(a.balance) < 0) found.belowZero++;
    }
  }
  const opening = (SAGA_ACCOUNTS.a.length + SAGA_ACCOUNTS.b.length) * SAGA_OPENING_BALANCE;
  if (total !== opening) v.push(`saga money is not conserved: ${total} in the saga accounts, ${opening} at the start`);
  return found;
}
