import type { Knex } from 'knex';
import type { Op } from './load.js';
import type { LogBranch } from './saga-checks.js';

/** What the message lane's checks found besides violations. */
export interface MsgFindings {
  /** Local transactions the producers committed, and messages delivered (every step in an inbox). */
  localCommits: number;
  delivered: number;
}

/**
 * PROTOCOL.md v1.2 "Message": a message is delivered iff its producer's local transaction
 * committed. Checked against the producers' and consumers' own tables: a committed message
 * has its order at the producer and every step in the consumer's inbox, a rolled-back one
 * neither; what the producer's local transaction answered agrees with the log.
 */
export async function checkMessages(ops: Op[], txs: Map<string, { status: string; mode: string }>, branches: LogBranch[], wallets: Knex[], v: string[]): Promise<MsgFindings> {
  const orders = new Set<string>();
  const inbox = new Set<string>();
  for (const k of wallets) {
    for (const o of (await k('msg_orders').select('xid')) as { xid: string }[]) orders.add(o.xid);
    for (const r of (await k('msg_inbox').select('xid', 'branch_id')) as { xid: string; branch_id: string }[]) inbox.add(`${r.xid}/${r.branch_id}`);
  }
  const found: MsgFindings = { localCommits: orders.size, delivered: 0 };
  const stepsOf = new Map<string, LogBranch[]>();
  for (const b of branches) if (txs.get(b.xid)?.mode === 'msg') stepsOf.set(b.xid, [...(stepsOf.get(b.xid) ?? []), b]);
  for (const [xid, steps] of stepsOf) {
    const status = txs.get(xid)!.status;
    const delivered = steps.filter((b) => inbox.has(`${xid}/${b.branch_id}`));
    if (status === 'committed') {
      found.delivered++;
      if (!orders.has(xid)) v.push(`${xid}: message committed, but its producer has no local commit`);
      if (delivered.length !== steps.length) v.push(`${xid}: message committed, ${delivered.length} of ${steps.length} steps delivered`);
      for (const b of steps) if (b.status !== 'delivered') v.push(`${xid}/${b.branch_id} is ${b.status} in a committed message`);
    } else if (status === 'rolled_back') {
      if (orders.has(xid)) v.push(`${xid}: message rolled back, but its producer's local transaction committed`);
      if (delivered.length > 0) v.push(`${xid}: message rolled back, yet ${delivered.map((b) => b.branch_id).join(', ')} delivered`);
      for (const b of steps) if (b.status !== 'registered') v.push(`${xid}/${b.branch_id} is ${b.status} in a rolled-back message`);
    }
  }
  for (const op of ops) {
    if (op.mode !== 'msg' || op.localCommitted === undefined) continue;
    if (op.localCommitted !== orders.has(op.xid)) v.push(`${op.xid}: the producer answered ${op.localCommitted ? 'committed' : 'not committed'}, its table says otherwise`);
    const status = txs.get(op.xid)?.status;
    if (status !== (op.localCommitted ? 'committed' : 'rolled_back')) v.push(`${op.xid}: the producer's local transaction ${op.localCommitted ? 'committed' : 'did not commit'}, the message is ${status ?? 'not in the log'}`);
  }
  for (const key of inbox) if (txs.get(key.split('/')[0]!)?.status !== 'committed') v.push(`${key} delivered, but its message is not committed`);
  return found;
}
