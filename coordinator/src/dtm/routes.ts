import { newXid } from '@dtx/protocol';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LIMITS, type ResolvedOptions } from '../config/options.js';
import { isFinal } from '../core/transitions.js';
import { readAttempts } from '../log/queries/readAttempts.js';
import { readTx, readTxWithBranches } from '../log/queries/readTransaction.js';
import type { TxRecord } from '../log/records.js';
import type { TransactionLog } from '../log/transaction-log.js';
import type { CoordinatorService } from '../service/coordinator-service.js';
import { traceOfRequest } from '../tracing/request-spans.js';
import { failure, ongoing, serverError, SUCCESS } from './answers.js';
import { dtmOptionsJson, parseDtmOptions, type DtmOptions } from './dialect.js';
import { listDtm } from './list.js';
import { dtmBranches, dtmTransaction } from './query-view.js';
import { msgStepRequests } from './msg-steps.js';
import { sagaStepRequests } from './saga-steps.js';
import { checkBranchId, checkGid, parseTrans, payloadOf, type DtmTrans } from './trans-body.js';

export interface DtmDeps {
  service: CoordinatorService;
  /** Read only: the surface writes through the service's use cases. */
  log: TransactionLog;
  options: ResolvedOptions;
}

const PREFIX = '/api/dtmsvr';
/** The coordinator package's version (its package.json is as far from src/dtm as from dist/dtm). */
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** A route's entry in the surface's OpenAPI document (`GET /docs` on its listener). */
const doc = (summary: string) => ({ schema: { summary, tags: ['DTM-compatible'] } });

/** DTM's HTTP API (docs/coming-from-dtm.md), mapped onto the coordinator's use cases. */
export function dtmRoutes(app: FastifyInstance, deps: DtmDeps): void {
  const { service, log, options } = deps;
  const read = (gid: string) => log.read((db) => readTx(db, gid));

  app.all('/api/ping', doc('Liveness, as DTM answers it: {"msg":"pong"}'), async () => ({ msg: 'pong' }));
  app.get(`${PREFIX}/version`, doc('The server version'), async () => ({ version: `dtx-${VERSION}` }));
  app.get(`${PREFIX}/newGid`, doc('A new gid (a DTX xid)'), async () => ({ gid: newXid(), ...SUCCESS }));

  app.post(`${PREFIX}/prepare`, doc('Begin a tcc, xa or msg transaction (DTM trans body)'), async (req) => {
    const t = parseTrans(req.body);
    if (t.transType === 'saga') throw failure('a saga is not prepared: submit it', 'INVALID_REQUEST');
    await begin(req, t);
    return SUCCESS;
  });

  app.post(`${PREFIX}/submit`, doc('Commit a tcc, xa or msg transaction, or run a saga (DTM trans body); wait_result answers after one round'), async (req) => {
    const t = parseTrans(req.body);
    if (t.transType === 'saga') return submitSaga(req, t);
    // DTM saves a submit of an unknown gid as it is (a TCC with no branches, a msg not prepared) and processes it
    const tx = (await read(t.gid)) ?? (await begin(req, t));
    dtmOf(tx, t.transType);
    const wait = t.waitResult;
    const d = await service.decide(t.gid, 'commit', { wait });
    if (!wait || d.status === 'committed') return SUCCESS;
    const now = await read(t.gid);
    if (d.status === 'rolled_back' || d.status === 'rolling_back') throw failure(now?.reason ?? 'rolled back');
    throw ongoing(now?.lastError ?? `transaction ${t.gid} is ${d.status}`);
  });

  app.post(`${PREFIX}/abort`, doc('Roll back a prepared tcc, xa or msg transaction ({gid, trans_type, rollback_reason?}); refused after a commit'), async (req) => {
    const t = parseTrans(req.body);
    // DTM checks the request's trans_type: an abort must name the transaction's
    if (t.transType === 'saga') throw failure(`trans type: '${t.transType}' current status 'submitted', cannot abort`);
    const tx = await read(t.gid);
    if (!tx) throw serverError(`no transaction with gid ${t.gid}`, 'TX_NOT_FOUND');
    dtmOf(tx, t.transType);
    await service.decide(t.gid, 'rollback', t.rollbackReason === null ? {} : { reason: t.rollbackReason });
    return SUCCESS;
  });

  for (const name of ['registerBranch', 'registerTccBranch', 'registerXaBranch']) {
    app.post(`${PREFIX}/${name}`, doc('Register a branch: {gid, branch_id, trans_type, data, confirm, cancel} (tcc) or {…, url} (xa), string values'), async (req) => {
      const b = stringFields(req.body);
      const gid = checkGid(b.gid);
      const branchId = checkBranchId(b.branch_id);
      const tx = await read(gid);
      const o = tx && tx.status === 'trying' ? parseDtmOptions(tx.dtmJson) : null;
      if (!tx || !o || (o.trans_type !== 'tcc' && o.trans_type !== 'xa')) throw failure(`no trans with gid: ${gid} status: prepared found`, 'TX_NOT_TRYING');
      if (b.trans_type !== undefined && b.trans_type !== o.trans_type) throw failure(`transaction ${gid} is a ${o.trans_type}, not a ${b.trans_type}`, 'INVALID_REQUEST');
      const [confirmUrl, cancelUrl] = o.trans_type === 'xa' ? [b.url, b.url] : [b.confirm, b.cancel];
      // an empty (or absent) URL is DTM's "no call"
      await service.register(gid, { branchId, confirmUrl: confirmUrl ?? '', cancelUrl: cancelUrl ?? '', timeoutMs: requestTimeoutMs(o, options), ...withPayload(b.data) }, true);
      return SUCCESS;
    });
  }

  app.get<{ Querystring: { gid?: string } }>(`${PREFIX}/query`, doc('A transaction and its two rows per branch, in DTM’s shape, with stuck, attempts and last_error'), async (req) => {
    const gid = checkGid(req.query.gid);
    const found = await log.read((db) => readTxWithBranches(db, gid));
    if (!found) return { transaction: null, branches: [] };
    const attempts = found.tx.mode === 'saga' ? await log.read((db) => readAttempts(db, gid)) : [];
    return { transaction: dtmTransaction(found.tx), branches: dtmBranches(found.tx, found.branches, attempts) };
  });

  app.get<{ Querystring: Record<string, string | undefined> }>(`${PREFIX}/all`, doc('Transactions newest first: gid, status, transType, limit, position; answers next_position'), async (req) => listDtm(log, req.query));

  app.post(`${PREFIX}/forceStop`, doc('Refused (409) unless dtmForceStop is abandon: then ends it with no call, reason "abandoned by operator"'), async (req) => {
    const gid = checkGid((req.body as { gid?: unknown } | null)?.gid);
    const tx = await read(gid);
    if (!tx) throw serverError(`no transaction with gid ${gid}`, 'TX_NOT_FOUND');
    if (isFinal(tx.status)) throw failure(`transaction ${gid} is ${tx.status}`, 'TX_FINISHED');
    if (options.dtmForceStop !== 'abandon') {
      throw failure(`forceStop is refused: transaction ${gid} is ${tx.status} and would be left half-applied; DTX finishes it (see its stuck flag and attempts)`, 'FORCE_STOP_REFUSED');
    }
    const why = (req.body as { reason?: unknown }).reason;
    const reason = `abandoned by operator${typeof why === 'string' && why !== '' ? `: ${why}` : ''}`;
    if (!(await service.abandon(gid, reason))) throw failure(`transaction ${gid} finished meanwhile`, 'TX_FINISHED');
    return SUCCESS;
  });

  app.get<{ Querystring: { timeout?: string; limit?: string } }>(`${PREFIX}/resetCronTime`, doc('Decided transactions due later than now+timeout (s) become due now, up to limit'), async (req) => {
    const timeoutS = whole(req.query.timeout, 'timeout', Math.ceil((3 * options.dtmTimeoutToFailMs) / 1000));
    const limit = whole(req.query.limit, 'limit', 100);
    const r = await service.retryDueLater(Date.now() + timeoutS * 1000, limit);
    return { has_remaining: r.more, succeed_count: r.moved };
  });

  app.post(`${PREFIX}/resetNextCronTime`, doc('One transaction ({gid}) due now'), async (req) => {
    const gid = checkGid((req.body as { gid?: unknown } | null)?.gid);
    await service.retry(gid);
    return SUCCESS;
  });

  /** A tcc or xa transaction begun with no branches, or a message with its steps (checked back at query_prepared). */
  async function begin(req: FastifyRequest, t: DtmTrans): Promise<TxRecord> {
    const timeoutMs = timeoutToFailMs(t);
    if (t.transType === 'msg') {
      if (t.queryPrepared === null) throw failure('a msg needs query_prepared: DTX checks back a message whose producer went quiet', 'INVALID_REQUEST');
      const steps = msgStepRequests(t, requestTimeoutMs(t.options, options));
      await service.begin({ xid: t.gid, timeoutMs, mode: 'msg', checkUrl: t.queryPrepared, steps }, traceOfRequest(req), dtmOptionsJson(t.options));
    } else {
      await service.begin({ xid: t.gid, timeoutMs }, traceOfRequest(req), dtmOptionsJson(t.options));
    }
    return (await read(t.gid))!;
  }

  /** A saga runs as DTX's saga mode; with `wait_result` the answer waits for its end (one DTM round at most): 200 succeed, 409 failed, 425 still running. */
  async function submitSaga(req: FastifyRequest, t: DtmTrans): Promise<unknown> {
    const { steps, concurrent } = sagaStepRequests(t, requestTimeoutMs(t.options, options));
    const dtm = { ...t.options, ...(concurrent ? { concurrent: true } : {}) };
    // DTM answers a wait_result after one processing round, which lasts at most request_timeout + 2 s
    const wait = t.waitResult ? requestTimeoutMs(t.options, options) + 2000 : false;
    const a = await service.begin({ xid: t.gid, timeoutMs: timeoutToFailMs(t), mode: 'saga', steps, wait }, traceOfRequest(req), dtmOptionsJson(dtm));
    if (wait === false) return SUCCESS;
    const view = a.view as { status: string; reason: string | null };
    if (view.status === 'committed') return SUCCESS;
    if (view.status === 'rolled_back' || view.status === 'rolling_back') throw failure(view.reason ?? 'rolled back');
    throw ongoing(`saga ${t.gid} is still running`);
  }

  function timeoutToFailMs(t: DtmTrans): number {
    return Math.max(LIMITS.minTimeoutMs, Math.min(LIMITS.maxTimeoutMs, t.options.timeout_to_fail ? t.options.timeout_to_fail * 1000 : options.dtmTimeoutToFailMs));
  }
}

/** The stored DTM options of `tx`, refused as DTM would when it was begun elsewhere or as another type. */
function dtmOf(tx: TxRecord, transType: string): DtmOptions {
  const o = parseDtmOptions(tx.dtmJson);
  if (!o) throw failure(`transaction ${tx.xid} was not begun through the DTM API`, 'TX_EXISTS');
  if (o.trans_type !== transType) throw failure(`transaction ${tx.xid} is a ${o.trans_type}, not a ${transType}`, 'TX_EXISTS');
  return o;
}

function whole(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0 || (name === 'limit' && (n < 1 || n > 10_000))) throw failure(`${name} must be a whole number`, 'INVALID_REQUEST');
  return n;
}

const requestTimeoutMs = (o: DtmOptions, options: ResolvedOptions): number => (o.request_timeout ? o.request_timeout * 1000 : options.dtmRequestTimeoutMs);

function withPayload(data: string | undefined): { payload?: string } {
  const p = payloadOf(data ?? '');
  return p === undefined ? {} : { payload: p };
}

/** registerBranch's body: DTM binds it to a map of strings, so only string fields count. */
function stringFields(body: unknown): Record<string, string | undefined> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw serverError('the body must be a JSON object', 'INVALID_REQUEST');
  return Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}
