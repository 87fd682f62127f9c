import { errorBody } from '@dtx/protocol';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  BadSignatureError,
  BranchBusyError,
  FmtBranchWaitingError,
  FmtDirtyRollbackError,
  FmtLockBusyError,
  FmtRowsMovedError,
  FmtUnsupportedStatementError,
  InvalidCallbackError,
  PhaseConflictError,
  TccRejectedError,
  toError,
  TrySuspendedError,
  UnknownActionError,
} from '../errors.js';

/**
 * The one mapping from callback errors to HTTP (PROTOCOL.md "How the caller reads the
 * answer"): 409 is final for a try; 500 makes the caller retry.
 */
export function sendCallbackError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof BadSignatureError) return reply.code(401).send(errorBody(err.code, err.message));
  if (err instanceof InvalidCallbackError) return reply.code(400).send(errorBody(err.code, err.message));
  if (err instanceof UnknownActionError) return reply.code(404).send(errorBody(err.code, err.message));
  if (err instanceof TrySuspendedError) return reply.code(409).send(errorBody(err.code, err.message));
  if (err instanceof PhaseConflictError) return reply.code(409).send(errorBody(err.code, err.message));
  if (err instanceof BranchBusyError) return reply.code(503).header('retry-after', '1').send(errorBody(err.code, err.message));
  if (err instanceof FmtUnsupportedStatementError) return reply.code(422).send(errorBody(err.code, err.message, { statement: err.statement, why: err.why }));
  if (err instanceof FmtDirtyRollbackError) return reply.code(409).send(errorBody(err.code, err.message, { ...err.dirty }));
  // The participant already waited (fmt.lockWaitMs / busyForMs) before answering: the caller may ask again at once.
  if (err instanceof FmtLockBusyError || err instanceof FmtBranchWaitingError || err instanceof FmtRowsMovedError) {
    return reply.code(503).header('retry-after', '0').send(errorBody(err.code, err.message));
  }
  if (err instanceof TccRejectedError) return reply.code(409).send(errorBody(err.code, err.message, err.details));
  // fastify's own refusals of the request (media type, body size, parsing) keep their 4xx.
  // Anything else, even a handler's error that carries a 4xx statusCode, is 500: a 4xx
  // would make a try a final rejection over what may be a passing failure.
  const fe = err as Partial<FastifyError>;
  const fromFastify = typeof fe.code === 'string' && fe.code.startsWith('FST_');
  if (fromFastify && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.code(fe.statusCode).send(errorBody(fe.code!, fe.message ?? 'bad request'));
  }
  request.log.error({ err: toError(err) }, 'dtx callback failed');
  return reply.code(500).send(errorBody('INTERNAL', toError(err).message));
}
