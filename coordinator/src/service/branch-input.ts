import type { RegisterBranchRequest } from '@dtx/protocol';
import { canonicalJson } from '../core/canonical-json.js';
import { LIMITS, type ResolvedOptions } from '../config/options.js';
import { InvalidRequestError, PayloadTooLargeError, UrlNotAllowedError } from '../errors.js';
import { newBranchRecord, type BranchRecord } from '../log/records.js';

/** How branch URLs are checked: the allowlist, and whether an empty URL means "no call" (DTM's rule, for the transactions begun through its API). */
export type UrlRules = Pick<ResolvedOptions, 'allowedOrigins'> & { emptyUrlMeansNoCall?: boolean };

/**
 * Checks a branch registration beyond its JSON schema (URLs, allowlist, payload
 * size) and turns it into a record. Refuses before anything is written.
 */
export function branchRecord(
  xid: string,
  req: RegisterBranchRequest,
  seq: number,
  now: number,
  options: UrlRules,
  path = '',
): BranchRecord {
  const urls = { tryUrl: req.tryUrl, confirmUrl: req.confirmUrl, cancelUrl: req.cancelUrl };
  for (const [name, url] of Object.entries(urls)) {
    if (url === undefined || (url === '' && options.emptyUrlMeansNoCall)) continue;
    checkParticipantUrl(url, `${path}/${name}`, options.allowedOrigins);
  }
  const payloadJson = req.payload === undefined ? null : canonicalJson(req.payload);
  if (payloadJson !== null && Buffer.byteLength(payloadJson) > LIMITS.payloadBytes) {
    throw new PayloadTooLargeError(`branch ${req.branchId} payload`, LIMITS.payloadBytes);
  }
  return newBranchRecord(
    {
      xid,
      branchId: req.branchId,
      seq,
      action: req.action ?? null,
      tryUrl: req.tryUrl ?? null,
      confirmUrl: req.confirmUrl,
      cancelUrl: req.cancelUrl,
      payloadJson,
      timeoutMs: req.timeoutMs ?? null,
    },
    now,
  );
}

/** An absolute http(s) URL without credentials, inside the allowlist when there is one; else refused before anything is written. */
export function checkParticipantUrl(url: string, path: string, allowed: string[]): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidRequestError(`${path} is not an absolute URL`, [{ path, message: 'must be an absolute http(s) URL' }]);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new InvalidRequestError(`${path} must be http or https`, [{ path, message: 'must be an absolute http(s) URL' }]);
  }
  if (u.username || u.password) {
    throw new InvalidRequestError(`${path} must not carry credentials`, [{ path, message: 'must not contain user:password@' }]);
  }
  if (allowed.length > 0 && !allowed.includes(u.origin)) throw new UrlNotAllowedError(url);
}
