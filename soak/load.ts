import { actionRef, branchOf, CoordinatorClient } from '@dtx/participant-sdk';
import type { TxStatus } from '@dtx/protocol';
import { Agent, request } from 'undici';
import { TIMINGS, type Cluster } from './cluster.js';

export const ACCOUNTS = { a: ['a0', 'a1', 'a2', 'a3'], b: ['b0', 'b1', 'b2', 'b3'] } as const;
export const OPENING_BALANCE = 1000;

/** One transfer the load began, and what its client was told. */
export interface Op {
  xid: string;
  mode: 'driven' | 'sdk';
  /** The status a client was told (201/200/202 answer, or transaction()'s outcome). */
  told?: TxStatus;
  /** transaction() threw (TransactionUnfinishedError past the deadline of a fault): no outcome told. */
  threw?: string;
  /** Why a driven request got no outcome: an error answer or no answer. */
  refused?: string;
  ms: number;
}

export interface LoadOptions {
  concurrency: number;
  untilMs: number;
  maxOps: number;
  runId: string;
}

/**
 * Transfers between wallet A and wallet B at a steady concurrency, half driven, half through
 * the SDK's transaction(), some of them overdrafts (the debit's try is refused and the
 * transfer rolls back). Every xid is chosen here, so the checks can find each in the log.
 */
export class Load {
  readonly ops: Op[] = [];
  readonly #agent = new Agent({ connections: 16, keepAliveTimeout: 5000, headersTimeout: 45_000, bodyTimeout: 45_000 });
  readonly #clients: CoordinatorClient[];
  #n = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly opts: LoadOptions,
  ) {
    this.#clients = cluster.coordinatorUrls.map((url) => new CoordinatorClient({ url, requestTimeoutMs: 15_000 }));
  }

  async run(): Promise<void> {
    await Promise.all(
      Array.from({ length: this.opts.concurrency }, async () => {
        while (Date.now() < this.opts.untilMs && this.#n < this.opts.maxOps) await this.#one(this.#n++);
      }),
    );
  }

  async close(): Promise<void> {
    await this.#agent.close();
    for (const c of this.#clients) await c.close();
  }

  async #one(n: number): Promise<void> {
    const { a, b } = this.cluster.wallets;
    const aToB = Math.random() < 0.5;
    const from = aToB ? { url: a.url, account: pick(ACCOUNTS.a) } : { url: b.url, account: pick(ACCOUNTS.b) };
    const to = aToB ? { url: b.url, account: pick(ACCOUNTS.b) } : { url: a.url, account: pick(ACCOUNTS.a) };
    const amount = Math.random() < 0.1 ? 2 * OPENING_BALANCE + Math.floor(Math.random() * 1000) : 1 + Math.floor(Math.random() * 50);
    const c = Math.floor(Math.random() * this.#clients.length);
    const op: Op = { xid: `soak-${this.opts.runId}-${n}`, mode: Math.random() < 0.5 ? 'driven' : 'sdk', ms: 0 };
    this.ops.push(op);
    const started = performance.now();
    const debit = actionRef(from.url, 'wallet.debit');
    const credit = actionRef(to.url, 'wallet.credit');
    if (op.mode === 'driven') {
      const branches = [branchOf(debit, 'debit', { account: from.account, amount }), branchOf(credit, 'credit', { account: to.account, amount })];
      try {
        const res = await request(`${this.cluster.coordinatorUrls[c]}/v1/transactions`, {
          method: 'POST',
          dispatcher: this.#agent,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ xid: op.xid, drive: true, timeoutMs: TIMINGS.txTimeoutMs, branches }),
        });
        const body = (await res.body.json().catch(() => undefined)) as { status?: TxStatus; error?: { code?: string } } | undefined;
        if (res.statusCode < 300 && body?.status) op.told = body.status;
        else op.refused = `HTTP ${res.statusCode} ${body?.error?.code ?? ''}`.trim();
      } catch (err) {
        op.refused = (err as { code?: string }).code ?? String(err);
      }
    } else {
      try {
        const outcome = await this.#clients[c]!.transaction(
          async (tx) => {
            await tx.call(debit, { account: from.account, amount }, { branchId: 'debit' });
            await tx.call(credit, { account: to.account, amount }, { branchId: 'credit' });
          },
          { xid: op.xid, timeoutMs: TIMINGS.txTimeoutMs, tryTimeoutMs: TIMINGS.callTimeoutMs },
        );
        op.told = outcome.status;
      } catch (err) {
        op.threw = (err as Error).name;
      }
    }
    op.ms = performance.now() - started;
  }
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}
