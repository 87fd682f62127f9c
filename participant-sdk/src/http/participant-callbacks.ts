import { errorBody, HEADER_SIGNATURE, verifySignature, type CallbackBody } from '@dtx/protocol';
import type { Knex } from 'knex';
import { Readable } from 'node:stream';
import { BadSignatureError } from '../errors.js';
import { CoordinatorClient } from '../client/coordinator-client.js';
import { ActionTable, DEFAULT_FMT } from '../runtime/action-table.js';
import { startStrandedBranchCheck } from '../fmt/stranded-branch-check.js';
import { startPreparedBranchCheck } from '../xa/prepared-branch-check.js';
import { requireXaServer } from '../xa/require-xa-support.js';
import { checkMessage } from '../barrier/message-rows.js';
import { MESSAGE_CHECK_PATH } from '../client/message-check-url.js';
import { contextOfHeaders, inSpan, SpanKind } from '../tracing/trace-context.js';
import { callbackUrlOf } from './callback-destination.js';
import { consoleLog, type CallbackAnswer, type CallbackLog, type CallbackRequest } from './callback-answer.js';
import { errorAnswer, json } from './error-reply.js';
import { parseCallback, parseCheck } from './parse-callback.js';
import { DEFAULT_BODY_LIMIT, readCallbackBody } from './read-callback-body.js';

/** Response header saying what the barrier did: `ran`, `duplicate` or `empty_rollback`. */
export const HEADER_BARRIER = 'dtx-barrier';

/** What every adapter takes: the participants, their database and how callbacks are checked. */
export interface ParticipantOptions {
  /** The participant's database: barrier rows and business changes share its transactions. */
  knex: Knex;
  /** Instances of `@Participant` classes. */
  participants: readonly object[];
  /** When set, every callback must carry a valid, fresh `dtx-signature`, made for this participant's URL. */
  signingSecret?: string;
  /**
   * The base URL the coordinator (and initiators) call this service at, e.g.
   * `https://wallet.internal:8443`, with any path prefix a reverse proxy strips. Signatures
   * are bound to the URL they were sent to, so a callback captured on its way to another
   * participant with the same secret is refused here.
   * @default the address and port each request arrived on (`http://127.0.0.1:4001` when
   *   listening there; a coordinator that calls `http://localhost:4001` needs this set)
   */
  publicUrl?: string;
  /**
   * Also accept v1 signatures, which are not bound to a destination: only while coordinators
   * or initiators older than DTX 0.3 still call this service (a rolling upgrade).
   * @default false
   */
  acceptV1Signatures?: boolean;
  /** Settings of `@XaAction` actions (ignored without any). */
  xa?: XaOptions;
  /** Settings of `@FmtAction` actions (ignored without any). */
  fmt?: FmtOptions;
  /** A callback body over this many bytes is refused with 413 (the fastify plugin keeps fastify's own `bodyLimit`). @default 1048576 */
  bodyLimit?: number;
  /** Where failing callbacks and the stranded-branch checks log. @default the console */
  log?: CallbackLog;
}

/** Where a mode's check for branches that no phase 2 reached asks about them, and when. */
export interface StrandedBranchOptions {
  /** The coordinator, asked about branches that no phase 2 reached. Unset: they are only logged. */
  coordinatorUrl?: string;
  /** Bearer token for that coordinator. */
  coordinatorToken?: string;
  /** How often to look for such branches. @default 60000 */
  checkEveryMs?: number;
  /** A branch left this long is resolved from the coordinator's state. @default 600000 */
  orphanAfterMs?: number;
}

export interface XaOptions extends StrandedBranchOptions {
  /** How long one statement waits on a row lock held by a prepared branch (whole seconds). @default 1000 */
  lockWaitMs?: number;
  /** How long a phase retries a branch whose rows stay locked before answering 503. @default 10000 */
  busyForMs?: number;
}

export interface FmtOptions extends StrandedBranchOptions {
  /** How long a try retries rows held by another transaction before answering 503 FMT_LOCK_BUSY. @default 200 */
  lockWaitMs?: number;
  /** How long a cancel waits for a later branch of its transaction on the same rows. @default 2000 */
  busyForMs?: number;
  /** A write touching more rows is refused (422). @default 1000 */
  maxRowsPerStatement?: number;
}

/** The framework-neutral participant: every adapter hands it callbacks and copies back its answers. */
export interface ParticipantCallbacks {
  /** The routes it serves, below the prefix: `/_msg/check` and `/<action>/<phase>` for each action. */
  readonly routes: readonly string[];
  /** Whether `route` is one of them (an adapter passes anything else on to its framework). */
  serves(route: string): boolean;
  /** Checks, runs and answers one callback; never throws (every error is an answer). */
  answer(request: CallbackRequest): Promise<CallbackAnswer>;
  /** Stops the stranded-branch checks it started; the knex pool stays the caller's. */
  close(): Promise<void>;
}

/**
 * Builds the participant every adapter serves (PROTOCOL.md): a TCC, XA or FMT action's try,
 * confirm and cancel, a saga or message action's action and compensate, each at
 * `/<action>/<phase>`, and a message producer's check-back at `/_msg/check`.
 * Mis-annotated classes fail here, before anything is served.
 */
export async function createParticipantCallbacks(opts: ParticipantOptions): Promise<ParticipantCallbacks> {
  const log = opts.log ?? consoleLog;
  const xa = opts.xa ?? {};
  const settings = { lockWaitSeconds: Math.max(1, Math.round((xa.lockWaitMs ?? 1000) / 1000)), busyForMs: xa.busyForMs ?? 10_000 };
  const fmt = opts.fmt ?? {};
  const fmtSettings = {
    lockWaitMs: fmt.lockWaitMs ?? DEFAULT_FMT.lockWaitMs,
    busyForMs: fmt.busyForMs ?? DEFAULT_FMT.busyForMs,
    maxRowsPerStatement: fmt.maxRowsPerStatement ?? DEFAULT_FMT.maxRowsPerStatement,
  };
  const table = new ActionTable(opts.knex, opts.participants, settings, fmtSettings);
  const checks: { close(): Promise<void> }[] = [];
  if (table.xaNames.length > 0) {
    await requireXaServer(opts.knex, table.xaNames);
    checks.push(startStrandedCheck(xa, (coordinator, orphanAfterMs, everyMs) => startPreparedBranchCheck({ knex: opts.knex, coordinator, settings, orphanAfterMs, log }, everyMs)));
  }
  if (table.fmtNames.length > 0) {
    checks.push(startStrandedCheck(fmt, (coordinator, orphanAfterMs, everyMs) => startStrandedBranchCheck({ knex: opts.knex, coordinator, settings: fmtSettings, orphanAfterMs, log: log }, everyMs)));
  }
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const secret = opts.signingSecret;

  /** The raw body of a callback whose signature (when a secret is set) is good for this participant's URL. */
  const signedBody = async (request: CallbackRequest): Promise<Buffer | undefined> => {
    const raw = request.body instanceof Readable ? await readCallbackBody(request.body, request.headers, bodyLimit) : request.body;
    if (secret !== undefined) {
      const header = request.headers[HEADER_SIGNATURE];
      const destination = callbackUrlOf({ path: request.url, localAddress: request.localAddress, localPort: request.localPort, tls: request.tls }, opts.publicUrl);
      const check = verifySignature(secret, Array.isArray(header) ? header[0] : header, raw ?? Buffer.alloc(0), { destination, acceptV1: opts.acceptV1Signatures === true });
      if (!check.ok) throw new BadSignatureError(check.reason, destination);
    }
    return raw;
  };

  // A message's check-back (PROTOCOL.md v1.2): 200 when its producer's local transaction committed, else 409, and from then on it cannot.
  const answerCheck = (request: CallbackRequest): Promise<CallbackAnswer> =>
    inSpan('dtx check', SpanKind.SERVER, { 'dtx.phase': 'check' }, async (span) => {
      const { xid } = parseCheck(await signedBody(request), request.headers);
      span.setAttributes({ 'dtx.xid': xid });
      if (await checkMessage(opts.knex, xid)) return json(200, { xid, committed: true });
      return json(409, errorBody('MSG_ROLLED_BACK', `message ${xid}: its local transaction did not commit, and now never will`));
    }, contextOfHeaders(request.headers));

  // each callback is a server span continuing the traceparent it carried, active while the action runs
  const answerAction = (request: CallbackRequest, action: string, phase: CallbackBody['phase']): Promise<CallbackAnswer> =>
    inSpan(`dtx ${phase} ${action}`, SpanKind.SERVER, { 'dtx.action': action, 'dtx.phase': phase }, async (span): Promise<CallbackAnswer> => {
      const { body, attempt } = parseCallback(await signedBody(request), { action, phase }, request.headers);
      span.setAttributes({ 'dtx.xid': body.xid, 'dtx.branch_id': body.branchId, 'dtx.attempt': attempt });
      const outcome = await table.handle({ action, body, attempt });
      // A try's (or saga action's) result, also when repeated (the barrier kept it), so phase 2 and later steps get it.
      const result = outcome.kind === 'empty_rollback' ? undefined : outcome.result;
      if ((phase === 'try' || phase === 'action') && result !== undefined) {
        // Serialised here so a string result still travels as JSON, not text/plain.
        return { status: 200, headers: { [HEADER_BARRIER]: outcome.kind, 'content-type': 'application/json' }, body: JSON.stringify(result) };
      }
      return { status: 204, headers: { [HEADER_BARRIER]: outcome.kind } };
    }, contextOfHeaders(request.headers));

  const byRoute = new Map<string, (request: CallbackRequest) => Promise<CallbackAnswer>>([[MESSAGE_CHECK_PATH, answerCheck]]);
  for (const { action, phases } of table.routes) {
    for (const phase of phases) byRoute.set(`/${action}/${phase}`, (request) => answerAction(request, action, phase));
  }

  return {
    routes: [...byRoute.keys()],
    serves: (route) => byRoute.has(route),
    async answer(request) {
      const serve = request.method === 'POST' ? byRoute.get(request.route) : undefined;
      // what fastify answers for a route it does not have, so every adapter's stray request reads alike
      if (serve === undefined) return json(404, { message: `Route ${request.method}:${request.url} not found`, error: 'Not Found', statusCode: 404 });
      try {
        return await serve(request);
      } catch (err) {
        return errorAnswer(err, request.log ?? log);
      }
    },
    async close() {
      await Promise.all(checks.map((check) => check.close()));
    },
  };
}

/** Starts a mode's stranded-branch check with its coordinator client; closing it closes both. */
function startStrandedCheck(
  o: StrandedBranchOptions,
  start: (coordinator: CoordinatorClient | undefined, orphanAfterMs: number, everyMs: number) => { close(): Promise<void> },
): { close(): Promise<void> } {
  const coordinator = o.coordinatorUrl === undefined ? undefined : new CoordinatorClient({ url: o.coordinatorUrl, ...(o.coordinatorToken ? { token: o.coordinatorToken } : {}) });
  const check = start(coordinator, o.orphanAfterMs ?? 600_000, o.checkEveryMs ?? 60_000);
  return {
    async close() {
      await check.close();
      await coordinator?.close();
    },
  };
}
