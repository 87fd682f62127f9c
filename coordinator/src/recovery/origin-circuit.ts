export interface CircuitPolicy {
  /** Consecutive failures that open an origin's circuit. */
  failureThreshold: number;
  /** First open period; doubled each time a half-open probe fails. */
  openMs: number;
  /** Longest open period. */
  maxOpenMs: number;
  /** While a half-open probe is out, how long other calls are told to wait (about one call timeout). */
  probeWaitMs: number;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

type Entry =
  | { state: 'closed'; failures: number }
  | { state: 'open'; until: number; openMs: number }
  | { state: 'half_open'; probing: boolean; openMs: number };

/**
 * Per-origin circuit breakers: an origin that keeps failing is backed off as a
 * whole (closed → open → half-open → closed), so calls to a dead participant stop
 * taking worker slots. Pure: time comes from `now`, nothing is scheduled.
 */
export class OriginCircuits {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly policy: CircuitPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  state(origin: string): CircuitState {
    const e = this.#entries.get(origin);
    if (!e) return 'closed';
    if (e.state === 'open' && this.now() >= e.until) return 'half_open';
    return e.state;
  }

  /** May a call to `origin` go out now? An admitted call must be followed by `record`. */
  admit(origin: string): Admission {
    const e = this.#entries.get(origin);
    if (!e || e.state === 'closed') return { ok: true };
    const now = this.now();
    if (e.state === 'open') {
      if (now < e.until) return { ok: false, retryAfterMs: e.until - now };
      this.#entries.set(origin, { state: 'half_open', probing: true, openMs: e.openMs });
      return { ok: true }; // this call is the probe
    }
    if (e.probing) return { ok: false, retryAfterMs: Math.min(e.openMs, this.policy.probeWaitMs) };
    e.probing = true;
    return { ok: true };
  }

  /** The outcome of an admitted call: `healthy` is false for a connection error, timeout, 5xx, 408 or 429. */
  record(origin: string, healthy: boolean): void {
    const e = this.#entries.get(origin);
    if (healthy) {
      this.#entries.delete(origin); // closed with no failures is the default
      return;
    }
    const now = this.now();
    if (!e || e.state === 'closed') {
      const failures = (e?.failures ?? 0) + 1;
      if (failures >= this.policy.failureThreshold) this.#entries.set(origin, { state: 'open', until: now + this.policy.openMs, openMs: this.policy.openMs });
      else this.#entries.set(origin, { state: 'closed', failures });
      return;
    }
    if (e.state === 'half_open') {
      const openMs = Math.min(this.policy.maxOpenMs, e.openMs * 2);
      this.#entries.set(origin, { state: 'open', until: now + openMs, openMs });
    }
    // a failure of a call admitted before the circuit opened changes nothing
  }
}
