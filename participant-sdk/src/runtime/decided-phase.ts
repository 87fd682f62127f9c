/** What a stranded-branch check asks the coordinator: a transaction's status, or a `TX_NOT_FOUND` error. */
export interface TransactionStatusSource {
  get(xid: string): Promise<{ status: string }>;
}

/**
 * The phase a branch left without its phase 2 needs, from its transaction's status:
 * committed → confirm, rolled back or unknown → cancel (presumed abort: the coordinator logs a
 * branch before its try and keeps a transaction until it is finished), still in flight →
 * undefined (its phase 2 will come). Also answers the status it read.
 */
export async function decidedPhaseOf(coordinator: TransactionStatusSource, xid: string): Promise<{ status: string; phase: 'confirm' | 'cancel' | undefined }> {
  let status: string;
  try {
    status = (await coordinator.get(xid)).status;
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'TX_NOT_FOUND') throw err;
    status = 'not_found';
  }
  const phase = status === 'committed' ? 'confirm' : status === 'rolled_back' || status === 'not_found' ? 'cancel' : undefined;
  return { status, phase };
}
