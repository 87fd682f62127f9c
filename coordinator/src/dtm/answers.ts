import type { FastifyReply } from 'fastify';
import { DtxError } from '../errors.js';

/**
 * DTM's answers (docs/coming-from-dtm.md): 200 `{"dtm_result":"SUCCESS"}`, 409 FAILURE,
 * 425 ONGOING, 500 with a message. DTM's clients read the status code (older ones the
 * `dtm_result`); `code` is DTX's stable error code, which they ignore.
 */
export const SUCCESS = { dtm_result: 'SUCCESS' } as const;

/** An answer of the DTM surface other than 200. */
export class DtmAnswer extends Error {
  constructor(
    readonly status: 409 | 425 | 500,
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'DtmAnswer';
  }
}

/** 409: DTM's FAILURE. */
export const failure = (message: string, code = 'FAILURE'): DtmAnswer => new DtmAnswer(409, message, code);
/** 425: DTM's ONGOING. */
export const ongoing = (message: string): DtmAnswer => new DtmAnswer(425, message, 'ONGOING');
/** 500: what DTM answers for an unknown gid, a bad body or a store error. */
export const serverError = (message: string, code = 'INTERNAL'): DtmAnswer => new DtmAnswer(500, message, code);

/** DTX's error codes as DTM's answers: a conflict or refused input is FAILURE (never 500, as DTM would for a repeat), the rest 500. */
const FAILURE_CODES = new Set(['TX_EXISTS', 'TX_NOT_TRYING', 'BRANCH_CONFLICT', 'TX_ROLLED_BACK', 'TX_COMMITTED', 'INVALID_REQUEST', 'URL_NOT_ALLOWED', 'PAYLOAD_TOO_LARGE']);

export function toDtmAnswer(err: unknown): DtmAnswer {
  if (err instanceof DtmAnswer) return err;
  if (err instanceof DtxError) return FAILURE_CODES.has(err.code) ? failure(err.message, err.code) : serverError(err.message, err.code);
  return serverError('internal error');
}

export function sendDtmAnswer(reply: FastifyReply, a: DtmAnswer): FastifyReply {
  if (a.code === 'STORE_UNAVAILABLE') reply.header('retry-after', '1');
  const body = a.status === 500 ? { message: a.message, code: a.code } : { dtm_result: a.status === 409 ? 'FAILURE' : 'ONGOING', message: a.message, code: a.code };
  return reply.code(a.status).send(body);
}
