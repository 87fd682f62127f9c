/**
 * The promise's outcome, or `onTimeout` once `ms` have passed, whichever comes
 * first. The timer is cleared as soon as the promise settles: racing against a
 * bare sleep instead leaves one timer (and what it holds) alive per call for the
 * full `ms`, which under load is a leak. `ms` of Infinity waits for the promise.
 */
export async function settleWithin<T, U>(promise: Promise<T>, ms: number, onTimeout: U): Promise<T | U> {
  if (ms === Number.POSITIVE_INFINITY) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, Math.min(ms, 2 ** 31 - 1)), onTimeout);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
