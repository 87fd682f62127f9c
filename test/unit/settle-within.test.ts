import { afterEach, describe, expect, test, vi } from 'vitest';
import { settleWithin } from '../../coordinator/src/settle-within.js';

// `wait` in commit and driven mode races phase 2 against a timer; a timer left
// behind per request is memory held for the whole wait (24 days for wait: true).
describe('settleWithin', () => {
  afterEach(() => vi.useRealTimers());

  test('the promise wins: its value, and no timer is left behind', async () => {
    vi.useFakeTimers();
    await expect(settleWithin(Promise.resolve('done'), 30_000, 'time up')).resolves.toBe('done');
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a rejection wins too, and clears the timer', async () => {
    vi.useFakeTimers();
    await expect(settleWithin(Promise.reject(new Error('boom')), 30_000, 'time up')).rejects.toThrow('boom');
    expect(vi.getTimerCount()).toBe(0);
  });

  test('time up first: the timeout value', async () => {
    vi.useFakeTimers();
    const slow = new Promise<string>(() => {});
    const r = settleWithin(slow, 1000, 'time up');
    await vi.advanceTimersByTimeAsync(1000);
    await expect(r).resolves.toBe('time up');
    expect(vi.getTimerCount()).toBe(0);
  });

  test('Infinity waits for the promise without a timer', async () => {
    vi.useFakeTimers();
    let resolve!: (v: string) => void;
    const r = settleWithin(new Promise<string>((res) => (resolve = res)), Number.POSITIVE_INFINITY, 'time up');
    expect(vi.getTimerCount()).toBe(0);
    resolve('late');
    await expect(r).resolves.toBe('late');
  });
});
