/**
 * What a fault of the stores does. `outage`: the log's database is away between `down` and
 * `up`, and every write meanwhile must answer 503 STORE_UNAVAILABLE. `failover`: a part that
 * has a standby dies, and the coordinators must keep taking writes while it is down and after
 * `up`. `action`: anything else (a Redis failover, FLUSHALL), whose harm the final checks see.
 */
export type StoreFault =
  | { kind: 'outage'; down(): Promise<void>; up(): Promise<void> }
  | { kind: 'failover'; down(): Promise<void>; up(): Promise<void> }
  | { kind: 'action'; run(): Promise<void> };

/**
 * The stores under the soak (the log's database, wallet A's, the recovery queue's Redis), all
 * of its own, and the faults they can be put through. Coordinators, workers and wallets
 * are started on top of one by `startCluster`.
 */
export interface Topology {
  /** One line for the report. */
  describe: string;
  logUrl: string;
  walletAUrl: string;
  redisUrl: string;
  /** BullMQ's prefix: on a Redis Cluster it carries a hash tag, so a queue's keys share a slot. */
  queuePrefix: string;
  faults: Record<string, StoreFault>;
  /** Starts whatever of it is down, and waits until it serves. */
  heal(): Promise<void>;
  /** Lines for the report about how its parts came back (optional). */
  notes?(): string[];
  /** Exits nobody caused. */
  crashes(): string[];
  /** Stops it (its directories go with the soak's or by `removeNow`). */
  close(): Promise<void>;
  /** SIGKILL of everything of it, synchronously, for the soak's `exit` handler. */
  removeNow(): void;
}
