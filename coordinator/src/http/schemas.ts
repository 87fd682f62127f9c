import { BRANCH_ID_PATTERN, CALL_PHASES, TEXT_LIMITS, TX_MODES, TX_STATUSES, XID_PATTERN } from '@dtx/protocol';
import { LIMITS } from '../config/options.js';

/** JSON schemas of PROTOCOL.md's requests; fastify validates with them and /docs publishes them. */
const xid = { type: 'string', pattern: XID_PATTERN } as const;
const branchId = { type: 'string', pattern: BRANCH_ID_PATTERN } as const;
/** A client's own text: every store keeps it as sent, so U+0000 (which PostgreSQL cannot store) is refused with 400. */
const NO_NUL = '^[^\\u0000]*$';
const url = { type: 'string', minLength: 1, maxLength: 2048, pattern: NO_NUL } as const;
const wait = { anyOf: [{ type: 'boolean' }, { type: 'integer', minimum: 0, maximum: 600_000 }] } as const;

export const branchBody = {
  type: 'object',
  required: ['branchId', 'confirmUrl', 'cancelUrl'],
  properties: {
    branchId,
    action: { type: 'string', minLength: 1, maxLength: 256, pattern: NO_NUL },
    tryUrl: url,
    confirmUrl: url,
    cancelUrl: url,
    payload: {},
    timeoutMs: { type: 'integer', minimum: 1, maximum: 600_000 },
  },
} as const;

/** One step of a saga's or a message's begin (PROTOCOL.md v1.2); a saga's needs a compensateUrl, a message's has none. */
export const stepBody = {
  type: 'object',
  required: ['branchId', 'actionUrl'],
  properties: {
    branchId,
    action: { type: 'string', minLength: 1, maxLength: 256, pattern: NO_NUL },
    actionUrl: url,
    compensateUrl: url,
    payload: {},
    after: { type: 'array', maxItems: 100, items: branchId },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 600_000 },
  },
} as const;

export const beginBody = {
  type: 'object',
  properties: {
    mode: { type: 'string', enum: [...TX_MODES] },
    // the 1–100 bound and which URLs each mode needs are the service's (service/steps-input.ts), so a saga or message with none is refused with the same issue path
    steps: { type: 'array', maxItems: 101, items: stepBody },
    checkUrl: url,
    xid,
    timeoutMs: { type: 'integer', minimum: LIMITS.minTimeoutMs, maximum: LIMITS.maxTimeoutMs },
    meta: {},
    branches: { type: 'array', maxItems: LIMITS.maxBranches, items: branchBody },
    drive: { type: 'boolean' },
    order: { type: 'string', enum: ['parallel', 'sequential'] },
    wait,
  },
} as const;

export const tryResultBody = {
  type: 'object',
  required: ['ok'],
  properties: { ok: { type: 'boolean' }, result: {}, error: { type: 'string', maxLength: TEXT_LIMITS.errorChars } },
} as const;

const reason = { type: 'string', maxLength: TEXT_LIMITS.reasonChars, pattern: NO_NUL } as const;

export const rollbackBody = { type: 'object', properties: { wait, reason } } as const;

/** Commit, with the initiator's try results recorded in the same write (PROTOCOL.md v1.1 "Shorter initiator flow"). */
export const commitBody = {
  type: 'object',
  properties: {
    wait,
    // a rollback's field, checked on commit too (and ignored there), as v1 did
    reason,
    tryResults: {
      type: 'object',
      maxProperties: LIMITS.maxBranches,
      propertyNames: branchId,
      additionalProperties: tryResultBody,
    },
  },
} as const;

export const xidParams = { type: 'object', required: ['xid'], properties: { xid } } as const;
export const branchParams = { type: 'object', required: ['xid', 'branchId'], properties: { xid, branchId } } as const;

/** GET /v1/transactions/:xid/attempts (PROTOCOL.md v1.1 "Attempt history"). */
export const attemptsReply = {
  type: 'object',
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['branchId', 'phase', 'attempt', 'at', 'durationMs', 'httpStatus', 'ok', 'error'],
        properties: {
          branchId,
          phase: { type: 'string', enum: [...CALL_PHASES] },
          attempt: { type: 'integer', minimum: 1, description: 'the dtx-attempt header the call carried' },
          at: { type: 'string', format: 'date-time' },
          durationMs: { type: 'integer', minimum: 0 },
          httpStatus: { type: ['integer', 'null'], description: 'null when no answer came (timeout, refused connection)' },
          ok: { type: 'boolean' },
          error: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

export const listQuery = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: [...TX_STATUSES] },
    mode: { type: 'string', enum: [...TX_MODES] },
    stuck: { type: 'string', enum: ['true', 'false'] },
    limit: { type: 'string', pattern: '^[0-9]{1,3}$' },
    cursor: { type: 'string', minLength: 1, maxLength: 300, pattern: NO_NUL },
  },
} as const;
