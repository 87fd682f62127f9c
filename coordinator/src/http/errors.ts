import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '@dtx/protocol';
import { DtxError } from '../errors.js';
import { discardOversizedBody } from './discard-oversized.js';

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

/** fastify's own errors, by code, in the protocol's terms, with where the problem is. */
const FASTIFY: Record<string, { code: string; path?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'INVALID_REQUEST', path: '/headers/content-length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_REQUEST', path: '/body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_REQUEST', path: '/body' },
  FST_ERR_BAD_URL: { code: 'INVALID_REQUEST', path: '/params' },
  // the schemas bound xid and branchId, so maxParamLength is set not to be reached; should it be, it is still a bad param
  FST_ERR_MAX_PARAM_LENGTH: { code: 'INVALID_REQUEST', path: '/params' },
  FST_ERR_NOT_FOUND: { code: 'NOT_FOUND' },
};


export function sendError(reply: FastifyReply, err: unknown, request?: FastifyRequest): FastifyReply {
  if (err instanceof DtxError) {
    if (err.code === 'STORE_UNAVAILABLE') {
      if (err.cause !== undefined) request?.log.error({ err: err.cause }, 'transaction log unavailable');
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
  // any other 4xx of fastify's own is a request it could not take: the protocol has one code for that
  const fastify4xx = fe.code?.startsWith('FST_') && fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500;
  const code = mapped?.code ?? (fastify4xx ? 'INVALID_REQUEST' : undefined);
  if (code) {
    const issues = code === 'INVALID_REQUEST' ? { issues: [{ path: mapped?.path ?? '', message: fe.message }] } : undefined;
    const send = () => reply.code(STATUS[code]!).send(errorBody(code, fe.message, issues));
    // answered once the client has written its body, which it reads only then (discard-oversized.ts)
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && request) {
      void discardOversizedBody(request, reply).then(send);
      return reply;
    }
    return send();
  }
  request?.log.error({ err }, 'unexpected error');
  return reply.code(500).send(errorBody('INTERNAL', 'internal error'));
}

/**
 * node's `clientError` (a request it could not parse: bad content-length, header
 * overflow, too slow): answer 400 INVALID_REQUEST in the protocol's shape on the
 * raw socket, as node and fastify would with their own body, then drop it.
 */
export function sendClientError(err: NodeJS.ErrnoException & { reason?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const why =
    err.code === 'HPE_HEADER_OVERFLOW' ? 'the request headers are over the size limit'
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'the request was not received in time'
    : `malformed HTTP request: ${err.reason ?? err.code ?? 'unparsable'}`;
  const body = JSON.stringify(errorBody('INVALID_REQUEST', why, { issues: [{ path: '', message: why }] }));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
