import { HEADER_TRACE_ID, type BeginRequest, type DecideRequest, type RegisterBranchRequest, type TryReportBody, type TxMode, type TxStatus } from '@dtx/protocol';
import type { FastifyInstance } from 'fastify';
import { isFinal } from '../../core/transitions.js';
import { InvalidRequestError } from '../../errors.js';
import type { CoordinatorService } from '../../service/coordinator-service.js';
import { traceOfRequest } from '../../tracing/request-spans.js';
import { attemptsReply, beginBody, branchBody, branchParams, commitBody, listQuery, rollbackBody, tryResultBody, xidParams } from '../schemas.js';

type XidParams = { xid: string };

/** A commit's or rollback's answer: 200 once final, 202 while phase 2 is still to finish (or was not waited for). */
export const decisionHttpStatus = (status: TxStatus): 200 | 202 => (isFinal(status) ? 200 : 202);

/** The `/v1/transactions` API of PROTOCOL.md. */
export function transactionRoutes(app: FastifyInstance, service: CoordinatorService): void {
  app.post<{ Body: BeginRequest }>('/v1/transactions', { schema: { body: beginBody } }, async (req, reply) => {
    const a = await service.begin(req.body, traceOfRequest(req));
    return reply.code(a.code ?? (a.created ? 201 : 200)).send(a.view);
  });

  app.post<{ Params: XidParams; Body: RegisterBranchRequest }>(
    '/v1/transactions/:xid/branches',
    { schema: { params: xidParams, body: branchBody } },
    async (req, reply) => {
      const a = await service.register(req.params.xid, req.body);
      return reply.code(a.created ? 201 : 200).send(a.view);
    },
  );

  app.post<{ Params: XidParams & { branchId: string }; Body: TryReportBody }>(
    '/v1/transactions/:xid/branches/:branchId/try-result',
    { schema: { params: branchParams, body: tryResultBody } },
    async (req) => service.tryResult(req.params.xid, req.params.branchId, req.body),
  );

  for (const verb of ['commit', 'rollback'] as const) {
    app.post<{ Params: XidParams; Body: DecideRequest }>(
      `/v1/transactions/:xid/${verb}`,
      { schema: { params: xidParams, body: verb === 'commit' ? commitBody : rollbackBody } },
      async (req, reply) => {
        const { wait, reason, tryResults } = req.body;
        const a = await service.decide(req.params.xid, verb, verb === 'commit' ? { wait, tryResults } : { wait, reason });
        return reply.code(decisionHttpStatus(a.status)).send(a);
      },
    );
  }

  app.get<{ Params: XidParams }>('/v1/transactions/:xid', { schema: { params: xidParams } }, async (req, reply) => {
    const { view, traceId } = await service.getWithTrace(req.params.xid);
    if (traceId) reply.header(HEADER_TRACE_ID, traceId);
    return view;
  });

  app.get<{ Params: XidParams }>(
    '/v1/transactions/:xid/attempts',
    { schema: { params: xidParams, summary: 'Every participant call made for this transaction, oldest first', response: { 200: attemptsReply } } },
    async (req) => service.attempts(req.params.xid),
  );

  app.get<{ Querystring: { status?: TxStatus; mode?: TxMode; stuck?: 'true' | 'false'; limit?: string; cursor?: string } }>(
    '/v1/transactions',
    { schema: { querystring: listQuery } },
    async (req) => {
      const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
      if (limit !== undefined && (limit < 1 || limit > 500)) {
        throw new InvalidRequestError('limit must be 1–500', [{ path: '/querystring/limit', message: 'must be between 1 and 500' }]);
      }
      const stuck = req.query.stuck === undefined ? undefined : req.query.stuck === 'true';
      return service.list({ status: req.query.status, mode: req.query.mode, stuck, limit, cursor: req.query.cursor });
    },
  );

  app.post<{ Params: XidParams }>('/v1/transactions/:xid/retry', { schema: { params: xidParams } }, async (req, reply) => {
    const { retried, ...body } = await service.retry(req.params.xid);
    return reply.code(retried ? 202 : 200).send(body);
  });
}
