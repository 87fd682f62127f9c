import { newBranchRecord, newTxRecord, type BranchRecord, type TxRecord } from '../../coordinator/src/log/records.js';

type At = { now?: number };

/** A transaction record as begin writes it (trying, 60 s timeout, parallel), `now` = Date.now(), with `over` on top. */
export function txRecord(xid: string, over: Partial<TxRecord> & At = {}): TxRecord {
  const { now = Date.now(), timeoutMs = 60_000, order = 'parallel', metaJson = null, ...rest } = over;
  return { ...newTxRecord({ xid, timeoutMs, order, metaJson, now }), ...rest };
}

/** A branch record as register writes it (registered, seq 1, action `w.<branchId>`, no payload), with `over` on top. */
export function branchRecord(xid: string, branchId: string, over: Partial<BranchRecord> & At = {}): BranchRecord {
  const { now = Date.now(), ...rest } = over;
  const fresh = newBranchRecord(
    { xid, branchId, seq: 1, action: `w.${branchId}`, tryUrl: null, confirmUrl: 'http://127.0.0.1:1/c', cancelUrl: 'http://127.0.0.1:1/x', payloadJson: null, timeoutMs: null },
    now,
  );
  return { ...fresh, ...rest };
}
