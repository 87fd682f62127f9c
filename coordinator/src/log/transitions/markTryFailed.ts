import type { Knex } from 'knex';
import { inStatements } from '../multi-row.js';
import { cachedText, execute, list } from '../raw-statements.js';
import { TX_TABLE } from '../records.js';

/** Over `n` transactions: each gets its own failed branch, unless it has one already. */
const setFailedBranch = cachedText(
  (n: number) =>
    `UPDATE ${TX_TABLE} SET failed_branch = CASE ${Array.from({ length: n }, () => 'WHEN xid = ? THEN ?').join(' ')} ELSE failed_branch END` +
    ` WHERE xid IN (${list(n)}) AND failed_branch IS NULL`,
);

/**
 * A try failed: its transaction's row names the (first) failed branch. Every write that
 * records a failed try calls this in the same database transaction, so the commit
 * decision can guard on its own locked row instead of reading the branches
 * (`markCommitting`; docs/design.md, invariant 1).
 */
export async function markTryFailed(trx: Knex.Transaction, failures: readonly { xid: string; branchId: string }[]): Promise<void> {
  const first = new Map<string, string>();
  for (const f of failures) if (!first.has(f.xid)) first.set(f.xid, f.branchId);
  for (const part of inStatements([...first])) {
    await execute(trx, setFailedBranch(part.length), [...part.flat(), ...part.map(([xid]) => xid)]);
  }
}
