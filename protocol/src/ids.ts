import { randomPool, takeRandom } from './random-pool.js';

/** PROTOCOL.md "Identifiers". */
export const XID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';
export const BRANCH_ID_PATTERN = '^[A-Za-z0-9._:-]{1,64}$';
const XID_RE = new RegExp(XID_PATTERN);
const BRANCH_ID_RE = new RegExp(BRANCH_ID_PATTERN);

export const isXid = (s: unknown): s is string => typeof s === 'string' && XID_RE.test(s);
export const isBranchId = (s: unknown): s is string => typeof s === 'string' && BRANCH_ID_RE.test(s);

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID: 48 bits of milliseconds then 80 random bits, so xids sort by creation time. */
export function newXid(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const at = takeRandom(16);
  const pool = randomPool();
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[pool[at + i]! % 32];
  return time + rand;
}
