import { randomFillSync } from 'node:crypto';

// A randomBytes call per id costs a trip into OpenSSL each (a profile of the coordinator showed 5 % of its CPU in
// span ids alone); ids draw from a pool refilled 4 KiB at a time instead
const pool = Buffer.alloc(4096);
let used = pool.length;

/** Where `n` fresh random bytes start in `randomPool()`. */
export function takeRandom(n: number): number {
  if (used + n > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += n;
  return used - n;
}

/** The pool the offsets of takeRandom point into; read them before the next call. */
export const randomPool = (): Buffer => pool;

/** `n` random bytes as lower-case hex. */
export function randomHex(n: number): string {
  const at = takeRandom(n);
  return pool.toString('hex', at, at + n);
}
