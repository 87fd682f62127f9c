/** How a round calls its branches (a transaction's `order`). */
type Order = 'parallel' | 'sequential';

/** Time kept beyond a round's calls for the write that records it (the log answers within 3 s, or the write is given up). */
export const ROUND_WRITE_MARGIN_MS = 4000;

/**
 * The longest one phase-2 round can take: its calls' timeouts, one after another when
 * sequential, the longest of them when parallel, plus the margin for its log write. A
 * lease shorter than this would let recovery call a branch again while the first call
 * is still in flight.
 */
export function roundLeaseMs(callTimeoutsMs: readonly number[], order: Order): number {
  if (callTimeoutsMs.length === 0) return ROUND_WRITE_MARGIN_MS;
  const calls = order === 'sequential' ? callTimeoutsMs.reduce((a, b) => a + b, 0) : Math.max(...callTimeoutsMs);
  return calls + ROUND_WRITE_MARGIN_MS;
}
