import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode =
  | { kind: 'pass' }
  /** Every chunk, both ways, waits this long (order kept). */
  | { kind: 'latency'; ms: number }
  /** Nothing goes through, nothing is refused: calls wait for their timeout. Held connections are dropped when it ends. */
  | { kind: 'hang' }
  /** Connections are reset (TCP RST) at random: on accept or mid-exchange. */
  | { kind: 'reset'; probability: number }
  /** The wallet is cut off: every connection is reset at once, new ones too. */
  | { kind: 'partition' };

interface Pair {
  client: Socket;
  upstream: Socket;
  heldByHang: boolean;
}

/**
 * A TCP proxy in front of one wallet (node:net), so the soak can make the network between
 * the coordinators (and initiators) and that wallet slow, silent or broken on a schedule.
 */
export class FaultProxy {
  #server: Server | null = null;
  #pairs = new Set<Pair>();
  #mode: ProxyMode = { kind: 'pass' };
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    this.#server = createServer((client) => this.#accept(client));
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  set(mode: ProxyMode): void {
    const was = this.#mode;
    this.#mode = mode;
    if (mode.kind === 'partition') for (const p of this.#pairs) this.#reset(p);
    if (mode.kind === 'hang') for (const p of this.#pairs) p.heldByHang = true;
    // the end of a hang: what it held is dropped, as a peer that went silent and came back
    if (was.kind === 'hang' && mode.kind !== 'hang') for (const p of this.#pairs) if (p.heldByHang) this.#reset(p);
  }

  #accept(client: Socket): void {
    const mode = this.#mode;
    if (mode.kind === 'partition' || (mode.kind === 'reset' && Math.random() < mode.probability)) {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    const pair: Pair = { client, upstream, heldByHang: mode.kind === 'hang' };
    this.#pairs.add(pair);
    const forget = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
    this.#pipe(pair, client, upstream);
    this.#pipe(pair, upstream, client);
  }

  #pipe(pair: Pair, from: Socket, to: Socket): void {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const mode = this.#mode;
      if (pair.heldByHang || mode.kind === 'hang') {
        pair.heldByHang = true;
        return; // swallowed: the peer hears nothing
      }
      if (mode.kind === 'reset' && Math.random() < mode.probability) return this.#reset(pair);
      const delay = mode.kind === 'latency' ? mode.ms : 0;
      chain = chain.then(async () => {
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        if (!to.destroyed) to.write(chunk);
      });
    });
  }

  #reset(pair: Pair): void {
    this.#pairs.delete(pair);
    if (!pair.client.destroyed) pair.client.resetAndDestroy();
    if (!pair.upstream.destroyed) pair.upstream.resetAndDestroy();
  }

  async close(): Promise<void> {
    for (const p of this.#pairs) this.#reset(p);
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    this.#server = null;
  }
}
