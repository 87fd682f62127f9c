import type { TxStatus } from '@dtx/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import { isFinal } from '../core/transitions.js';
import { TxNotFoundError } from '../errors.js';
import { readTx, readTxWithBranches } from '../log/queries/readTransaction.js';
import type { BranchRecord, TxRecord } from '../log/records.js';
import { recoverTransaction } from '../recovery/recover-transaction.js';
import { driveSaga } from '../saga/drive-saga.js';
import { settleWithin } from '../settle-within.js';
import { runPhase2, type Phase2Deps, type RoundTx } from './run-phase2.js';

/** How often a waiting request re-reads a transaction that no round of this process is driving. */
const WAIT_POLL_MS = 50;

/**
 * The phase-2 rounds this process runs, by xid: started after a decision taken
 * here, or by recovery (the in-process sweeper, an operator's retry). Shutdown
 * drains them and a waiting request joins them. A round resolves to the status it
 * left the transaction in, or null when recovery found nothing to drive (another
 * process holds it, or it is no longer due); errors are left to recovery.
 */
export class Phase2Rounds {
  readonly #inFlight = new Map<string, Promise<TxStatus | null>>();

  constructor(private readonly deps: Phase2Deps) {}

  /** A round of a transaction just decided by this process, read from the log first. */
  start(xid: string): Promise<TxStatus> {
    const run = (async () => {
      const found = await this.deps.log.read((db) => readTxWithBranches(db, xid));
      if (!found) throw new TxNotFoundError(xid);
      return runPhase2(this.deps, found.tx, found.branches);
    })();
    return this.#track(xid, run);
  }

  /** A round of a transaction this process has just written, so nothing is read back. */
  drive(tx: RoundTx, branches: readonly BranchRecord[]): Promise<TxStatus> {
    return this.#track(tx.xid, runPhase2(this.deps, tx, branches));
  }

  /** A saga just begun here (its first steps marked called by the begin's write): its forward path, then its first compensation round if it rolls back. */
  driveSaga(tx: TxRecord, steps: readonly BranchRecord[]): Promise<TxStatus> {
    const marked = steps.filter((s) => s.calledAt !== null && s.status === 'registered');
    const preStarted = { branchIds: marked.map((s) => s.branchId), markedAt: marked[0]?.calledAt ?? 0 };
    return this.#track(tx.xid, driveSaga(this.deps, tx, steps, undefined, preStarted));
  }

  /** Recovery of one transaction in this process: claim it, then a round. */
  recover(xid: string): Promise<TxStatus | null> {
    return this.#track(xid, recoverTransaction(this.deps, xid));
  }

  /** The round this process is running for `xid`, if any. */
  running(xid: string): Promise<TxStatus | null> | undefined {
    return this.#inFlight.get(xid);
  }

  /**
   * Until the transaction is final or `until`: joins the rounds this process runs
   * (`first`, then recovery's); with `acrossRounds` it otherwise re-reads the log,
   * since another process (or a later sweep) may be the one that finishes it.
   */
  async waitForFinal(xid: string, status: TxStatus, first: Promise<TxStatus | null> | undefined, until: number, acrossRounds: boolean): Promise<TxStatus> {
    let round = first;
    if (!round && !acrossRounds) return status;
    for (;;) {
      const left = until - this.deps.now();
      if (left <= 0) return status;
      if (round) {
        const settled = await settleWithin(round.then((s) => s, () => null), left, 'time up' as const);
        if (settled === 'time up') return status;
        if (settled) status = settled;
      } else {
        await sleep(Math.min(WAIT_POLL_MS, left), undefined, { ref: false });
        const tx = await this.deps.log.read((db) => readTx(db, xid));
        if (tx) status = tx.status;
      }
      if (isFinal(status) || !acrossRounds) return status;
      const next = this.#inFlight.get(xid);
      round = next !== round ? next : undefined;
    }
  }

  /** Waits for every round, at most `timeoutMs`; what is left is recovery's. */
  async drain(timeoutMs: number): Promise<void> {
    const all = Promise.allSettled([...this.#inFlight.values()]);
    await settleWithin(all, timeoutMs, undefined);
  }

  #track<S extends TxStatus | null>(xid: string, run: Promise<S>): Promise<S> {
    const tracked = run.finally(() => {
      if (this.#inFlight.get(xid) === tracked) this.#inFlight.delete(xid);
    });
    tracked.catch(() => {}); // recovery finishes what failed here
    this.#inFlight.set(xid, tracked);
    return tracked;
  }
}
