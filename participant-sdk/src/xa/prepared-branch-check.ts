import type { Knex } from 'knex';
import { decidedPhaseOf, type TransactionStatusSource } from '../runtime/decided-phase.js';
import { startPeriodicCheck } from '../runtime/periodic-check.js';
import { runXaPhase, type XaPhaseSettings } from './run-xa-phase.js';
import { branchOfXaId, xaIdSql } from './xa-id.js';
import { preparedXaIds } from './xa-statements.js';

export type { TransactionStatusSource };

export interface PreparedBranchCheckDeps {
  knex: Knex;
  coordinator: TransactionStatusSource | undefined;
  settings: XaPhaseSettings;
  /** A prepared branch is looked at once this process has seen it prepared this long. */
  orphanAfterMs: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  now?: () => number;
}

/**
 * One round of the check for prepared branches that no phase 2 will reach: every SDK
 * branch in XA RECOVER that has stayed prepared for `orphanAfterMs` is resolved from the
 * coordinator's state: committed → confirm, rolled back → cancel, unknown to the
 * coordinator → cancel (presumed abort: the coordinator logs a branch before its try, and
 * keeps a transaction until it is finished, so a missing one never decided commit, or
 * finished with this branch confirmed, i.e. not prepared). Still in flight → left to its
 * phase 2. `firstSeen` carries what earlier rounds saw.
 */
export async function checkPreparedBranches(deps: PreparedBranchCheckDeps, firstSeen: Map<string, number>): Promise<void> {
  const now = (deps.now ?? Date.now)();
  const ids = await preparedXaIds(deps.knex);
  const current = new Set(ids.map(xaIdSql));
  for (const seen of [...firstSeen.keys()]) if (!current.has(seen)) firstSeen.delete(seen);
  for (const id of ids) {
    const name = xaIdSql(id);
    if (!firstSeen.has(name)) firstSeen.set(name, now);
    if (now - firstSeen.get(name)! < deps.orphanAfterMs) continue;
    const key = branchOfXaId(id);
    if (!key) {
      deps.log.warn({ xa: name }, 'dtx: prepared XA branch of an xid longer than 64 bytes: resolve it by hand (XA COMMIT or XA ROLLBACK)');
      continue;
    }
    if (!deps.coordinator) {
      deps.log.warn({ xid: key.xid, branchId: key.branchId }, 'dtx: prepared XA branch left for long; set the plugin option xa.coordinatorUrl so it can be resolved');
      continue;
    }
    const { status, phase } = await decidedPhaseOf(deps.coordinator, key.xid);
    if (!phase) continue;
    await runXaPhase(deps.knex, key, phase, async () => undefined, deps.settings);
    firstSeen.delete(name);
    deps.log.info({ xid: key.xid, branchId: key.branchId, transaction: status, resolved: phase }, `dtx: resolved a prepared XA branch that no phase 2 reached: ${phase === 'confirm' ? 'committed' : 'rolled back'} (transaction ${status})`);
  }
}

/** Runs the check every `everyMs` until closed; a failed round is logged and the next one runs. */
export function startPreparedBranchCheck(deps: PreparedBranchCheckDeps, everyMs: number): { close(): Promise<void> } {
  const firstSeen = new Map<string, number>();
  return startPeriodicCheck(() => checkPreparedBranches(deps, firstSeen), everyMs, deps.log, 'dtx: prepared XA branch check failed');
}
