import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from '@dtx/protocol';
import { DtxError } from '../errors.js';

/** The one mapping from error codes to HTTP statuses (PROTOCOL.md "Coordinator API"). */
const STATUS: Record<string, number> = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  URL_NOT_ALLOWED: 403,
  TX_NOT_FOUND: 404,
  BRANCH_NOT_FOUND: 404,
  NOT_FOUND: 404,
  TX_EXISTS: 409,
  TX_NOT_TRYING: 409,
  BRANCH_CONFLICT: 409,
  TX_ROLLED_BACK: 409,
  TX_COMMITTED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** fastify's own errors, by code, in the protocol's terms. */
const FASTIFY: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_REQUEST',
};

export function errorBody(code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: { code, message, ...(details ? { details } : {}) } };
}

export function sendError(reply: FastifyReply, err: unknown, request?: FastifyRequest): FastifyReply {
  if (err instanceof DtxError) {
    if (err.code === 'STORE_UNAVAILABLE') {
      request?.log.error({ err: err.cause }, 'transaction log unavailable');
      reply.header('retry-after', '1');
    }
    if (err.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer');
    return reply.code(STATUS[err.code] ?? 500).send(errorBody(err.code, err.message, err.details));
  }
  const fe = err as FastifyError & { validationContext?: string };
  if (fe.validation) {
    const issues = fe.validation.map((v) => ({
      path: `/${fe.validationContext ?? 'body'}${v.instancePath}${v.keyword === 'required' ? `/${(v.params as { missingProperty?: string }).missingProperty}` : ''}`,
      message: v.message ?? 'invalid',
    }));
    return reply.code(400).send(errorBody('INVALID_REQUEST', `invalid request: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, { issues }));
  }
  const mapped = fe.code ? FASTIFY[fe.code] : undefined;
  if (mapped) return reply.code(STATUS[mapped]!).send(errorBody(mapped, fe.message, mapped === 'INVALID_REQUEST' ? { issues: [{ path: '/body', message: fe.message }] } : undefined));
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.code(fe.statusCode).send(errorBody('INVALID_REQUEST', fe.message, { issues: [{ path: '', message: fe.message }] }));
  }
  request?.log.error({ err }, 'unexpected error');
  return reply.code(500).send(errorBody('INTERNAL', 'internal error'));
}
