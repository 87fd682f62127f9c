import { actionRef, branchOf, CoordinatorClient } from '@dtx/participant-sdk';
import type { TxStatus } from '@dtx/protocol';
import { Agent, request } from 'undici';
import { TIMINGS, type Cluster } from './cluster.js';
import { SAGA_ACCOUNTS, SAGA_OPENING_BALANCE } from './saga-wallet.js';

export const ACCOUNTS = { a: ['a0', 'a1', 'a2', 'a3'], b: ['b0', 'b1', 'b2', 'b3'] } as const;
export const OPENING_BALANCE = 1000;

/** One transfer the load began, and what its client was told. */
export interface Op {
  xid: string;
  /** The lane: TCC driven, TCC through transaction(), or a saga (v1.2) of a debit and a credit step. */
  mode: 'driven' | 'sdk' | 'saga' | 'msg';
  /** msg: what the producer's local transaction answered (true: it committed). */
  localCommitted?: boolean;
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
  #untilMs: number;

  constructor(
    private readonly cluster: Cluster,
    private readonly opts: LoadOptions,
  ) {
    this.#clients = cluster.coordinatorUrls.map((url) => new CoordinatorClient({ url, requestTimeoutMs: 15_000 }));
    this.#untilMs = opts.untilMs;
  }

  /** Moves the end of the load (`--faults-once`: it runs until the faults are done). */
  stopAt(ms: number): void {
    this.#untilMs = ms;
  }

  async run(): Promise<void> {
    await Promise.all(
      Array.from({ length: this.opts.concurrency }, async () => {
        while (Date.now() < this.#untilMs && this.#n < this.opts.maxOps) await this.#one(this.#n++);
      }),
    );
  }

  async close(): Promise<void> {
    await this.#agent.close();
    for (const c of this.#clients) await c.close();
  }

  async #one(n: number): Promise<void> {
    const lane = Math.random();
    if (lane < 0.2) return this.#saga(n);
    if (lane < 0.35) return this.#msg(n);
    const { a, b } = this.cluster.wallets;
    const aToB = Math.random() < 0.5;
    const from = aToB ? { url: a.url, account: pick(ACCOUNTS.a) } : { url: b.url, account: pick(ACCOUNTS.b) };
    const to = aToB ? { url: b.url, account: pick(ACCOUNTS.b) } : { url: a.url, account: pick(ACCOUNTS.a) };
    const amount = Math.random() < 0.1 ? 2 * OPENING_BALANCE + Math.floor(Math.random() * 1000) : 1 + Math.floor(Math.random() * 50);
    const c = Math.floor(Math.random() * this.#clients.length);
    const op: Op = { xid: `soak-${this.opts.runId}-${n}`, mode: lane < 0.65 ? 'driven' : 'sdk', ms: 0 };
    this.ops.push(op);
    const started = performance.now();
    const debit = actionRef(from.url, 'wallet.debit');
    const credit = actionRef(to.url, 'wallet.credit');
    if (op.mode === 'driven') {
      const branches = [branchOf(debit, 'debit', { account: from.account, amount }), branchOf(credit, 'credit', { account: to.account, amount })];
      await this.#begin(op, { xid: op.xid, drive: true, timeoutMs: TIMINGS.txTimeoutMs, branches });
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

  /** A saga transfer between the saga accounts: one at a time (array order) or both steps at once (`after: []`). */
  async #saga(n: number): Promise<void> {
    const { a, b } = this.cluster.wallets;
    const aToB = Math.random() < 0.5;
    const from = aToB ? { url: a.url, account: pick(SAGA_ACCOUNTS.a) } : { url: b.url, account: pick(SAGA_ACCOUNTS.b) };
    const to = aToB ? { url: b.url, account: pick(SAGA_ACCOUNTS.b) } : { url: a.url, account: pick(SAGA_ACCOUNTS.a) };
    const amount = Math.random() < 0.1 ? 2 * SAGA_OPENING_BALANCE + Math.floor(Math.random() * 1000) : 1 + Math.floor(Math.random() * 50);
    const parallel = Math.random() < 0.3 ? { after: [] } : {};
    const step = (w: { url: string; account: string }, kind: 'debit' | 'credit') => ({
      branchId: kind,
      action: `saga.${kind}`,
      actionUrl: `${w.url}/saga/${kind}/action`,
      compensateUrl: `${w.url}/saga/${kind}/compensate`,
      payload: { account: w.account, amount },
      ...parallel,
    });
    const op: Op = { xid: `soak-${this.opts.runId}-${n}`, mode: 'saga', ms: 0 };
    this.ops.push(op);
    const started = performance.now();
    const steps = [step(from, 'debit'), step(to, 'credit')];
    await this.#begin(op, { mode: 'saga', xid: op.xid, wait: true, timeoutMs: TIMINGS.txTimeoutMs, steps });
    op.ms = performance.now() - started;
  }

  /**
   * A message (PROTOCOL.md v1.2): prepared at a coordinator, then the producer's local
   * transaction (one in five fails), then usually the commit or rollback; sometimes the
   * producer says nothing after its local transaction, as one that died there, and the
   * coordinator's check-back decides.
   */
  async #msg(n: number): Promise<void> {
    const { a, b } = this.cluster.wallets;
    const [producer, consumer] = Math.random() < 0.5 ? [a, b] : [b, a];
    const amount = 1 + Math.floor(Math.random() * 50);
    const op: Op = { xid: `soak-${this.opts.runId}-${n}`, mode: 'msg', ms: 0 };
    this.ops.push(op);
    const started = performance.now();
    const coordinator = pick(this.cluster.coordinatorUrls);
    const steps = ['first', 'second'].map((branchId) => ({ branchId, action: 'msg.deliver', actionUrl: `${consumer.url}/msg/deliver/action`, payload: { amount } }));
    const prepared = await this.#call(`${coordinator}/v1/transactions`, { mode: 'msg', xid: op.xid, timeoutMs: TIMINGS.txTimeoutMs, checkUrl: `${producer.url}/msg/check`, steps });
    if (prepared.status !== 201) {
      op.refused = `prepare: ${prepared.why}`;
      op.ms = performance.now() - started;
      return;
    }
    const local = await this.#call(`${producer.url}/msg/local`, { xid: op.xid, amount, fail: Math.random() < 0.2 });
    if (local.status === 200) op.localCommitted = true;
    else if (local.status === 409 || local.status === 422) op.localCommitted = false;
    // no answer: the local transaction's fate is unknown to the producer; the check-back decides
    if (Math.random() < 0.85 && op.localCommitted !== undefined) {
      const end = await this.#call(`${coordinator}/v1/transactions/${op.xid}/${op.localCommitted ? 'commit' : 'rollback'}`, {});
      if (end.status < 300 && end.told) op.told = end.told;
      else op.refused = `${op.localCommitted ? 'commit' : 'rollback'}: ${end.why}`;
    } else op.refused = 'the producer said nothing after its local transaction';
    op.ms = performance.now() - started;
  }

  /** One JSON POST; its status and the `status` it answered, or why it did not. */
  async #call(url: string, body: object): Promise<{ status: number; told?: TxStatus; why: string }> {
    try {
      const res = await request(url, { method: 'POST', dispatcher: this.#agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const answer = (await res.body.json().catch(() => undefined)) as { status?: TxStatus; error?: { code?: string } } | undefined;
      return { status: res.statusCode, ...(answer?.status ? { told: answer.status } : {}), why: `HTTP ${res.statusCode} ${answer?.error?.code ?? ''}`.trim() };
    } catch (err) {
      return { status: 0, why: (err as { code?: string }).code ?? String(err) };
    }
  }

  /** One begin on a coordinator picked at random; what it answered is what its client was told. */
  async #begin(op: Op, body: object): Promise<void> {
    const r = await this.#call(`${pick(this.cluster.coordinatorUrls)}/v1/transactions`, body);
    // 202 `trying`: the answer came before the outcome (a saga longer than the request's wait)
    if (r.status < 300 && r.told === 'trying') op.refused = 'answered before the outcome (202 trying)';
    else if (r.status < 300 && r.told) op.told = r.told;
    else op.refused = r.why;
  }
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}
