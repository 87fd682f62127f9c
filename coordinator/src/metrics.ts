import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one coordinator, served at GET /metrics. */
export class Metrics {
  readonly registry = new Registry();
  readonly decisions = new Counter({ name: 'dtx_decisions_total', help: 'Decisions taken by this process', labelNames: ['decision', 'reason', 'mode'] as const, registers: [this.registry] });
  readonly finished = new Counter({ name: 'dtx_transactions_finished_total', help: 'Transactions that reached a final status here', labelNames: ['status'] as const, registers: [this.registry] });
  readonly phase2Calls = new Counter({ name: 'dtx_phase2_calls_total', help: 'Phase-2 calls to participants (confirm, cancel, compensate, a message step\'s action) and message check-backs', labelNames: ['phase', 'outcome'] as const, registers: [this.registry] });
  readonly tryCalls = new Counter({ name: 'dtx_try_calls_total', help: 'Try calls made in driven mode', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly recovered = new Counter({ name: 'dtx_recovery_claims_total', help: 'Transactions claimed by recovery in this process', registers: [this.registry] });
  /** Every API request answered, by route template (never the raw path, whose xids would grow without bound). */
  readonly requests = new Counter({ name: 'dtx_http_requests_total', help: 'HTTP requests answered by this process', labelNames: ['method', 'route', 'status'] as const, registers: [this.registry] });
  /** Every participant call this process made, by phase and how its answer reads (ok, rejected, retry). */
  readonly callSeconds = new Histogram({
    name: 'dtx_participant_call_duration_seconds',
    help: 'Duration of participant calls (driven tries, confirms, cancels) made by this process',
    labelNames: ['phase', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** `countStuck` answers the stuck-transactions gauge at each scrape (one indexed count in the log). */
  constructor(logWriter: () => { commits: number; replays: number }, countStuck?: () => Promise<number>) {
    if (countStuck) {
      new Gauge({
        name: 'dtx_stuck_transactions',
        help: 'Transactions flagged stuck (decided, still failing after stuckAfterAttempts rounds), as the log holds them now',
        registers: [this.registry],
        async collect() {
          this.set(await countStuck());
        },
      });
    }
    new Gauge({
      name: 'dtx_log_commits',
      help: 'Database commits made by the log writer (group commit) since start',
      registers: [this.registry],
      collect() {
        this.set(logWriter().commits);
      },
    });
    new Gauge({
      name: 'dtx_log_replays',
      help: 'Group-commit batches replayed one write at a time after an unexpected database error, since start',
      registers: [this.registry],
      collect() {
        this.set(logWriter().replays);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'dtx_process_' });
  }
}
