import { MSG_BRANCH_ID } from '@dtx/protocol';
import type { Knex } from 'knex';
import { MessageNotCommittableError } from '../errors.js';
import { barrierRowsOf, insertBarrierRow, insertOrLockBarrierRow, type BarrierKey } from './insert-barrier-row.js';
import { retryLockConflicts } from './retry-lock-conflicts.js';

/**
 * A message's rows in its producer's barrier (PROTOCOL.md v1.2 "Message"): the protocol's
 * `(xid, "msg", op "msg")`, written by the producer's local transaction, and
 * `(xid, "msg", op "rollback")`, the row that decides. The protocol has the check-back
 * insert that second row unless the `msg` row exists; by itself that is a different
 * primary key from the `msg` row, so nothing would make a local transaction that commits
 * after the check-back fail (on PostgreSQL the check's NOT EXISTS does not even wait for
 * an uncommitted `msg` row). So the producer claims the `rollback` row too, with reason
 * `msg`, and both sides meet on that one key: whoever inserts it first decides, the other
 * waits for it and then finds it. The reason says who won: `msg` (the local transaction
 * committed) or `rollback` (a check-back came first).
 */
const keyOf = (xid: string): BarrierKey => ({ xid, branchId: MSG_BRANCH_ID });

/**
 * In the producer's local transaction, before its business change: claims the message for
 * it. Throws MessageNotCommittableError (and the local transaction rolls back) when a
 * check-back rolled the message back first, or a local transaction of this xid committed.
 */
export async function claimMessage(trx: Knex.Transaction, xid: string): Promise<void> {
  const key = keyOf(xid);
  if (!(await insertBarrierRow(trx, key, 'rollback', 'msg'))) {
    const decided = (await barrierRowsOf(trx, key)).get('rollback');
    throw new MessageNotCommittableError(xid, decided === 'msg' ? 'already_committed' : 'rolled_back');
  }
  await insertBarrierRow(trx, key, 'msg', 'msg');
}

/**
 * The check-back: true when the producer's local transaction committed. One statement:
 * inserts the `rollback` row (reason `rollback`) unless the producer's local transaction
 * claimed it, and answers the row's reason; an uncommitted local transaction is waited
 * for. A `rollback` row it writes makes that local transaction fail if it commits later.
 */
export async function checkMessage(knex: Knex, xid: string): Promise<boolean> {
  const reason = await retryLockConflicts(() => knex.transaction((trx) => insertOrLockBarrierRow(trx, keyOf(xid), 'rollback', 'rollback')));
  return reason === 'msg';
}
