import { DEFAULT_CALLBACK_PREFIX, errorBody, HEADER_SIGNATURE, verifySignature } from '@dtx/protocol';
import type { Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { BadSignatureError } from '../errors.js';
import { CoordinatorClient } from '../client/coordinator-client.js';
import { ActionTable } from '../runtime/action-table.js';
import { startStrandedBranchCheck } from '../fmt/stranded-branch-check.js';
import { DEFAULT_FMT } from '../runtime/action-table.js';
import { startPreparedBranchCheck } from '../xa/prepared-branch-check.js';
import { requireXaServer } from '../xa/require-xa-support.js';
import { callbackUrlOf } from './callback-destination.js';
import { sendCallbackError } from './error-reply.js';
import { checkMessage } from '../barrier/message-rows.js';
import { MESSAGE_CHECK_PATH } from '../client/message-check-url.js';
import { parseCallback, parseCheck } from './parse-callback.js';
import { contextOfHeaders, inSpan, SpanKind } from '../tracing/trace-context.js';

/** Response header saying what the barrier did: `ran`, `duplicate` or `empty_rollback`. */
export const HEADER_BARRIER = 'dtx-barrier';

export interface ParticipantPluginOptions {
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
  /** fastify's route prefix. @default '/dtx' */
  prefix?: string;
  /** Settings of `@XaAction` actions (ignored without any). */
  xa?: XaOptions;
  /** Settings of `@FmtAction` actions (ignored without any). */
  fmt?: FmtOptions;
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

/**
 * Serves every action at `POST <prefix>/<action>/<phase>` (PROTOCOL.md): a TCC, XA or FMT
 * action's try, confirm and cancel, a saga or message action's action and compensate; and
 * a message producer's check-back at `POST <prefix>/_msg/check`. Register it
 * without fastify-plugin's unwrapping: its raw-body JSON parser and error handler stay
 * inside this plugin's scope. Mis-annotated classes fail here, at registration.
 */
export const participantPlugin: FastifyPluginAsync<ParticipantPluginOptions> = async (app: FastifyInstance, opts) => {
  const xa = opts.xa ?? {};
  const settings = { lockWaitSeconds: Math.max(1, Math.round((xa.lockWaitMs ?? 1000) / 1000)), busyForMs: xa.busyForMs ?? 10_000 };
  const fmt = opts.fmt ?? {};
  const fmtSettings = {
    lockWaitMs: fmt.lockWaitMs ?? DEFAULT_FMT.lockWaitMs,
    busyForMs: fmt.busyForMs ?? DEFAULT_FMT.busyForMs,
    maxRowsPerStatement: fmt.maxRowsPerStatement ?? DEFAULT_FMT.maxRowsPerStatement,
  };
  const table = new ActionTable(opts.knex, opts.participants, settings, fmtSettings);
  if (table.xaNames.length > 0) {
    await requireXaServer(opts.knex, table.xaNames);
    startStrandedCheck(app, xa, (coordinator, orphanAfterMs, everyMs) => startPreparedBranchCheck({ knex: opts.knex, coordinator, settings, orphanAfterMs, log: app.log }, everyMs));
  }
  if (table.fmtNames.length > 0) {
    startStrandedCheck(app, fmt, (coordinator, orphanAfterMs, everyMs) => startStrandedBranchCheck({ knex: opts.knex, coordinator, settings: fmtSettings, orphanAfterMs, log: app.log }, everyMs));
  }
  // fastify applies an explicit `prefix` itself; without one the protocol's default applies.
  const base = opts.prefix === undefined ? DEFAULT_CALLBACK_PREFIX : '';
  const secret = opts.signingSecret;

  // The signature covers the exact bytes sent, so the body is kept raw and parsed after checking it.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err, request, reply) => sendCallbackError(err, request, reply));

  /** The raw body of a callback whose signature (when a secret is set) is good for this participant's URL. */
  const signedBody = (request: FastifyRequest): Buffer | undefined => {
    const raw = Buffer.isBuffer(request.body) ? request.body : undefined;
    if (secret !== undefined) {
      const header = request.headers[HEADER_SIGNATURE];
      const arrived = { path: request.url, localAddress: request.socket.localAddress, localPort: request.socket.localPort, tls: request.protocol === 'https' };
      const destination = callbackUrlOf(arrived, opts.publicUrl);
      const check = verifySignature(secret, Array.isArray(header) ? header[0] : header, raw ?? Buffer.alloc(0), { destination, acceptV1: opts.acceptV1Signatures === true });
      if (!check.ok) throw new BadSignatureError(check.reason, destination);
    }
    return raw;
  };

  // A message's check-back (PROTOCOL.md v1.2): 200 when its producer's local transaction committed, else 409, and from then on it cannot.
  app.post(`${base}${MESSAGE_CHECK_PATH}`, (request, reply) =>
    inSpan('dtx check', SpanKind.SERVER, { 'dtx.phase': 'check' }, async (span) => {
      const { xid } = parseCheck(signedBody(request), request.headers);
      span.setAttributes({ 'dtx.xid': xid });
      if (await checkMessage(opts.knex, xid)) return reply.code(200).send({ xid, committed: true });
      return reply.code(409).send(errorBody('MSG_ROLLED_BACK', `message ${xid}: its local transaction did not commit, and now never will`));
    }, contextOfHeaders(request.headers)),
  );

  for (const { action, phases } of table.routes) {
    for (const phase of phases) {
      const answer = async (request: FastifyRequest, reply: FastifyReply, span: Span) => {
        const { body, attempt } = parseCallback(signedBody(request), { action, phase }, request.headers);
        span.setAttributes({ 'dtx.xid': body.xid, 'dtx.branch_id': body.branchId, 'dtx.attempt': attempt });
        const outcome = await table.handle({ action, body, attempt });
        reply.header(HEADER_BARRIER, outcome.kind);
        // A try's (or saga action's) result, also when repeated (the barrier kept it), so phase 2 and later steps get it.
        const result = outcome.kind === 'empty_rollback' ? undefined : outcome.result;
        if ((phase === 'try' || phase === 'action') && result !== undefined) {
          // Serialised here so a string result still travels as JSON, not text/plain.
          return reply.code(200).type('application/json').send(JSON.stringify(result));
        }
        return reply.code(204).send();
      };
      // each callback is a server span continuing the traceparent it carried, active while the action runs
      app.post(`${base}/${action}/${phase}`, (request, reply) =>
        inSpan(`dtx ${phase} ${action}`, SpanKind.SERVER, { 'dtx.action': action, 'dtx.phase': phase }, (span) => answer(request, reply, span), contextOfHeaders(request.headers)),
      );
    }
  }
};

/** Starts a mode's stranded-branch check with its coordinator client; both close with the app. */
function startStrandedCheck(
  app: FastifyInstance,
  o: StrandedBranchOptions,
  start: (coordinator: CoordinatorClient | undefined, orphanAfterMs: number, everyMs: number) => { close(): Promise<void> },
): void {
  const coordinator = o.coordinatorUrl === undefined ? undefined : new CoordinatorClient({ url: o.coordinatorUrl, ...(o.coordinatorToken ? { token: o.coordinatorToken } : {}) });
  const check = start(coordinator, o.orphanAfterMs ?? 600_000, o.checkEveryMs ?? 60_000);
  app.addHook('onClose', async () => {
    await check.close();
    await coordinator?.close();
  });
}
