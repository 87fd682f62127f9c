import type { Knex } from 'knex';
import { barrierTimestamp } from '../barrier/dialect.js';
import { toError } from '../errors.js';
import { decidedPhaseOf, type TransactionStatusSource } from '../runtime/decided-phase.js';
import { startPeriodicCheck } from '../runtime/periodic-check.js';
import { runFmtPhase, type FmtPhaseSettings } from './run-fmt-phase.js';
import { fmtSqlOf, rowsOf } from './sql-rows.js';

export interface StrandedBranchCheckDeps {
  knex: Knex;
  coordinator: TransactionStatusSource | undefined;
  settings: FmtPhaseSettings;
  /** A branch whose undo records are this old is looked at. */
  orphanAfterMs: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  now?: () => number;
}

/**
 * One round of the check for FMT branches that no phase 2 will reach (their undo records
 * and locks would stay forever): each branch with undo records older than `orphanAfterMs`
 * is resolved from the coordinator's state, as XA's prepared branches are
 * (xa/prepared-branch-check.ts): committed → confirm, rolled back or unknown → cancel
 * (presumed abort), in flight → left to its phase 2. A dirty cancel stays (409, logged).
 */
export async function checkStrandedFmtBranches(deps: StrandedBranchCheckDeps): Promise<void> {
  const now = (deps.now ?? Date.now)();
  const db = fmtSqlOf(deps.knex);
  const branches = await rowsOf<{ xid: string; branch_id: string }>(db, 'SELECT DISTINCT xid, branch_id FROM dtx_fmt_undo WHERE created_at < ? ORDER BY xid LIMIT 100', [barrierTimestamp(now - deps.orphanAfterMs)]);
  for (const { xid, branch_id: branchId } of branches) {
    if (!deps.coordinator) {
      deps.log.warn({ xid, branchId }, 'dtx: FMT branch undecided for long; set the plugin option fmt.coordinatorUrl so it can be resolved');
      continue;
    }
    const { status, phase } = await decidedPhaseOf(deps.coordinator, xid);
    if (!phase) continue;
    try {
      await runFmtPhase(deps.knex, { xid, branchId }, phase, async () => undefined, deps.settings);
      deps.log.info({ xid, branchId, transaction: status, resolved: phase }, `dtx: resolved an FMT branch that no phase 2 reached: ${phase === 'confirm' ? 'confirmed' : 'undone'} (transaction ${status})`);
    } catch (err) {
      deps.log.warn({ xid, branchId, err: toError(err) }, `dtx: could not ${phase} a stranded FMT branch`);
    }
  }
}

/** Runs the check every `everyMs` until closed; a failed round is logged and the next one runs. */
export function startStrandedBranchCheck(deps: StrandedBranchCheckDeps, everyMs: number): { close(): Promise<void> } {
  return startPeriodicCheck(() => checkStrandedFmtBranches(deps), everyMs, deps.log, 'dtx: stranded FMT branch check failed');
}
