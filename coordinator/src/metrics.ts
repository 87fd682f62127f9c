import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one coordinator, served at GET /metrics. */
export class Metrics {
  readonly registry = new Registry();
  readonly decisions = new Counter({ name: 'dtx_decisions_total', help: 'Decisions taken by this process', labelNames: ['decision', 'reason'] as const, registers: [this.registry] });
  readonly finished = new Counter({ name: 'dtx_transactions_finished_total', help: 'Transactions that reached a final status here', labelNames: ['status'] as const, registers: [this.registry] });
  readonly phase2Calls = new Counter({ name: 'dtx_phase2_calls_total', help: 'Confirm and cancel calls to participants', labelNames: ['phase', 'outcome'] as const, registers: [this.registry] });
  readonly tryCalls = new Counter({ name: 'dtx_try_calls_total', help: 'Try calls made in driven mode', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly recovered = new Counter({ name: 'dtx_recovery_claims_total', help: 'Transactions claimed by recovery in this process', registers: [this.registry] });

  constructor(logCommits: () => number) {
    new Gauge({
      name: 'dtx_log_commits',
      help: 'Database commits made by the log writer (group commit) since start',
      registers: [this.registry],
      collect() {
        this.set(logCommits());
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'dtx_process_' });
  }
}
