import { TEXT_LIMITS } from '@dtx/protocol';
import { LIMITS } from '../config/options.js';
import { failure, serverError } from './answers.js';
import { isDtmTransType, type DtmOptions, type DtmTransType } from './dialect.js';

/** A DTM saga or msg step. */
export interface DtmStep {
  action: string;
  compensate: string;
}

/** DTM's trans body (prepare, submit, abort), checked: unknown fields and JSON nulls ignored, as DTM does. */
export interface DtmTrans {
  gid: string;
  transType: DtmTransType;
  options: DtmOptions;
  steps: DtmStep[];
  /** One raw payload per step: DTM sends each as a JSON string and calls with its bytes. */
  payloads: string[];
  rollbackReason: string | null;
  /** Answer once the transaction ended (per request, so not kept with it). */
  waitResult: boolean;
  /** A message's check-back URL (kept as its checkUrl). */
  queryPrepared: string | null;
}

const XID = /^[A-Za-z0-9._:-]{1,128}$/;
const BRANCH_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** DTM strips `\n`, `\r` and `;` from a gid; what is left must be a DTX xid. */
export function checkGid(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw serverError('gid is required', 'INVALID_REQUEST');
  const gid = value.replace(/[\n\r;]/g, '');
  if (!XID.test(gid)) throw failure(`gid "${gid.slice(0, 140)}" is not 1–128 of [A-Za-z0-9._:-]`, 'INVALID_REQUEST');
  return gid;
}

export function checkBranchId(value: unknown): string {
  if (typeof value !== 'string' || !BRANCH_ID.test(value)) throw failure('branch_id must be 1–64 of [A-Za-z0-9._:-]', 'INVALID_REQUEST');
  return value;
}

export function parseTrans(body: unknown): DtmTrans {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw serverError('the body must be a JSON object', 'INVALID_REQUEST');
  const b = body as Record<string, unknown>;
  const gid = checkGid(b.gid);
  const transType = b.trans_type ?? null;
  if (!isDtmTransType(transType)) throw failure(`trans_type ${JSON.stringify(transType)} is not served here (tcc, xa, saga, msg)`, 'INVALID_REQUEST');
  const options: DtmOptions = { trans_type: transType };
  const seconds = (name: 'timeout_to_fail' | 'request_timeout' | 'retry_interval' | 'retry_limit'): void => {
    const v = b[name];
    if (v === null || v === undefined || v === 0) return; // the Python client sends 0 for "not set"
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw failure(`${name} must be a whole number, got ${JSON.stringify(v)}`, 'INVALID_REQUEST');
    options[name] = v;
  };
  seconds('timeout_to_fail');
  seconds('request_timeout');
  seconds('retry_interval');
  seconds('retry_limit');
  const headers = b.branch_headers;
  if (headers !== null && headers !== undefined) {
    if (typeof headers !== 'object' || Array.isArray(headers) || !Object.values(headers).every((v) => typeof v === 'string')) {
      throw failure('branch_headers must be an object of strings', 'INVALID_REQUEST');
    }
    if (Object.keys(headers).length > 0) options.branch_headers = headers as Record<string, string>;
  }
  const text = (name: 'custom_data' | 'query_prepared'): string | undefined => {
    const v = b[name];
    if (v === null || v === undefined || v === '') return undefined;
    if (typeof v !== 'string') throw failure(`${name} must be a string`, 'INVALID_REQUEST');
    return v;
  };
  const customData = text('custom_data');
  if (customData !== undefined) options.custom_data = customData;
  if (b.concurrent === true) options.concurrent = true;
  const steps = parseSteps(b.steps);
  const payloads = parsePayloads(b.payloads, steps);
  const reason = typeof b.rollback_reason === 'string' && b.rollback_reason !== '' ? b.rollback_reason.slice(0, TEXT_LIMITS.reasonChars) : null;
  return { gid, transType, options, steps, payloads, rollbackReason: reason, waitResult: b.wait_result === true, queryPrepared: text('query_prepared') ?? null };
}

function parseSteps(v: unknown): DtmStep[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v) || v.length > LIMITS.maxBranches) throw failure(`steps must be a list of at most ${LIMITS.maxBranches}`, 'INVALID_REQUEST');
  return v.map((s: unknown, i) => {
    const step = (s ?? {}) as Record<string, unknown>;
    const url = (k: string): string => {
      const u = step[k];
      if (u === null || u === undefined) return '';
      if (typeof u !== 'string') throw failure(`steps[${i}].${k} must be a URL`, 'INVALID_REQUEST');
      return u;
    };
    return { action: url('action'), compensate: url('compensate') };
  });
}

function parsePayloads(v: unknown, steps: DtmStep[]): string[] {
  if (v === null || v === undefined) return steps.map(() => '');
  if (!Array.isArray(v) || !v.every((p) => typeof p === 'string')) throw failure('payloads must be a list of strings', 'INVALID_REQUEST');
  if (v.length !== steps.length) throw failure(`payloads has ${v.length} items for ${steps.length} steps`, 'INVALID_REQUEST');
  return v as string[];
}

/** How a DTM branch's raw payload is logged: a JSON string (so /v1 shows it, and the call sends its bytes back). */
export const payloadOf = (raw: string): string | undefined => (raw === '' ? undefined : raw);
