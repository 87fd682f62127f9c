import { errorBody } from '@dtx/protocol';
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
import { CallbackBodyTooLargeError, UnsupportedMediaTypeError } from './request-errors.js';
import type { CallbackAnswer, CallbackLog } from './callback-answer.js';

/**
 * The one mapping from callback errors to HTTP (PROTOCOL.md "How the caller reads the
 * answer"): 409 is final for a try; 500 makes the caller retry.
 */
export function errorAnswer(err: unknown, log: CallbackLog): CallbackAnswer {
  if (err instanceof BadSignatureError) return json(401, errorBody(err.code, err.message));
  if (err instanceof InvalidCallbackError) return json(400, errorBody(err.code, err.message));
  if (err instanceof UnknownActionError) return json(404, errorBody(err.code, err.message));
  if (err instanceof TrySuspendedError) return json(409, errorBody(err.code, err.message));
  if (err instanceof PhaseConflictError) return json(409, errorBody(err.code, err.message));
  if (err instanceof BranchBusyError) return json(503, errorBody(err.code, err.message), { 'retry-after': '1' });
  if (err instanceof FmtUnsupportedStatementError) return json(422, errorBody(err.code, err.message, { statement: err.statement, why: err.why }));
  if (err instanceof FmtDirtyRollbackError) return json(409, errorBody(err.code, err.message, { ...err.dirty }));
  // The participant already waited (fmt.lockWaitMs / busyForMs) before answering: the caller may ask again at once.
  if (err instanceof FmtLockBusyError || err instanceof FmtBranchWaitingError || err instanceof FmtRowsMovedError) {
    return json(503, errorBody(err.code, err.message), { 'retry-after': '0' });
  }
  if (err instanceof TccRejectedError) return json(409, errorBody(err.code, err.message, err.details));
  if (err instanceof CallbackBodyTooLargeError) return json(413, errorBody(err.code, err.message));
  if (err instanceof UnsupportedMediaTypeError) return json(415, errorBody(err.code, err.message));
  // fastify's own refusals of the request (media type, body size, parsing) keep their 4xx.
  // Anything else, even a handler's error that carries a 4xx statusCode, is 500: a 4xx
  // would make a try a final rejection over what may be a passing failure.
  const fe = err as { code?: unknown; statusCode?: unknown; message?: string };
  const fromFastify = typeof fe.code === 'string' && fe.code.startsWith('FST_');
  if (fromFastify && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return json(fe.statusCode, errorBody(fe.code as string, fe.message ?? 'bad request'));
  }
  log.error({ err: toError(err) }, 'dtx callback failed');
  return json(500, errorBody('INTERNAL', toError(err).message));
}

/** A JSON answer, typed as fastify types a serialised object. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): CallbackAnswer {
  return { status, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
}
