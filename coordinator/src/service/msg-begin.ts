import type { BeginRequest } from '@dtx/protocol';
import { TxExistsError, InvalidRequestError } from '../errors.js';
import { readTxWithBranches } from '../log/queries/readTransaction.js';
import { newTxRecord } from '../log/records.js';
import { insertTransactionWrite } from '../log/transitions/insertTransaction.js';
import type { StoredTrace } from '../tracing/trace-context.js';
import { checkParticipantUrl } from './branch-input.js';
import type { DrivenDeps } from './driven.js';
import type { StepsBegin } from './saga-begin.js';
import { sameSteps, stepRecords } from './steps-input.js';
import { stepsView } from './views.js';

/**
 * Begin of a message (PROTOCOL.md v1.2 "Message"): the message, its checkUrl and all its
 * steps in one write, `trying` (prepared), nothing called. It waits for its producer's
 * commit or rollback; still trying at its deadline, recovery checks back
 * (recovery/check-back.ts). A repeat with the same settings answers its current state;
 * other settings are TX_EXISTS.
 */
export async function beginMessage(deps: DrivenDeps, b: Omit<StepsBegin, 'waitTrueMs'>, req: BeginRequest, trace?: StoredTrace): Promise<{ created: boolean; view: ReturnType<typeof stepsView> }> {
  if (req.checkUrl === undefined) throw new InvalidRequestError('a message needs a checkUrl', [{ path: '/checkUrl', message: 'is required in a message' }]);
  checkParticipantUrl(req.checkUrl, '/checkUrl', deps.options.allowedOrigins);
  const now = deps.now();
  const steps = stepRecords(b.xid, 'msg', req, now, deps.options);
  const tx = newTxRecord({ xid: b.xid, mode: 'msg', timeoutMs: b.timeoutMs, order: 'parallel', metaJson: b.metaJson, now, trace, checkUrl: req.checkUrl, dtmJson: b.dtmJson ?? null });
  const inserted = await deps.log.apply(insertTransactionWrite, { tx, branches: steps });
  if (inserted.created) return { created: true, view: stepsView(tx, steps) };
  const found = (await deps.log.read((db) => readTxWithBranches(db, b.xid)))!;
  const e = found.tx;
  if (e.mode !== 'msg' || e.timeoutMs !== b.timeoutMs || e.metaJson !== b.metaJson || e.checkUrl !== req.checkUrl || e.dtmJson !== (b.dtmJson ?? null) || !sameSteps(found.branches, steps)) {
    throw new TxExistsError(b.xid, e.status, 'with other settings');
  }
  return { created: false, view: stepsView(e, found.branches) };
}
