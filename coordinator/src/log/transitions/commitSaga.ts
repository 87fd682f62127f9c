import type { Knex } from 'knex';
import { txSourcesOf } from '../../core/transitions.js';
import { TX_TABLE } from '../records.js';

/**
 * A saga's commit decision (v1.2): `trying → committed` once its last step is done; no
 * phase 2 follows. Guarded like markCommitting: only a saga still trying moves, so a
 * rollback (requested, or recovery's at the deadline) that won first keeps the saga.
 */
export async function commitSaga(trx: Knex.Transaction, xid: string, now: number): Promise<boolean> {
  const updated = await trx(TX_TABLE)
    .where({ xid, tx_mode: 'saga' })
    .whereIn('status', txSourcesOf('committed', 'saga'))
    .update({ status: 'committed', next_retry_at: null, stuck: 0, finished_at: now, updated_at: now });
  return updated === 1;
}
