import type { Knex } from 'knex';
import type { DirtyResolution } from './undo-record.js';
import { markResolution } from './undo-log.js';
import { fmtSqlOf } from './sql-rows.js';

export interface DirtyRollbackResolution {
  xid: string;
  branchId: string;
  /**
   * `restore-before`: the cancel writes the before image over whatever the row holds now.
   * `keep-current`: the cancel leaves the row as it is now (the outside change stands).
   */
  decision: DirtyResolution;
  /** One undo record (the `seq` a 409 FMT_DIRTY_ROLLBACK names); all of the branch's when absent. */
  seq?: number;
}

/**
 * An operator's answer to a dirty rollback (409 FMT_DIRTY_ROLLBACK): recorded on the
 * branch's undo records, so the coordinator's next retry of the cancel applies it and the
 * transaction ends rolled back. Rows the cancel finds clean are undone as usual. Answers
 * how many undo records were marked (0: the branch has none left, e.g. already cancelled).
 */
export async function resolveDirtyRollback(knex: Knex, resolution: DirtyRollbackResolution): Promise<number> {
  if (resolution.decision !== 'restore-before' && resolution.decision !== 'keep-current') {
    throw new RangeError(`decision must be restore-before or keep-current, got ${String(resolution.decision)}`);
  }
  return markResolution(fmtSqlOf(knex), { xid: resolution.xid, branchId: resolution.branchId }, resolution.decision, resolution.seq);
}
