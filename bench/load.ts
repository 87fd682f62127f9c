// The load generator, run as its own process: `concurrency` lanes each run one
// transaction after another for warmup + duration; only transactions that start
// and finish inside the measured window count.
import { performance } from 'node:perf_hooks';
import { createScenario, type ScenarioConfig } from './scenarios.js';

export interface LoadConfig extends ScenarioConfig {
  warmupMs: number;
  durationMs: number;
}

export interface LoadResult {
  scenario: string;
  /** Transactions counted in the measured window. */
  measured: number;
  /** Every transaction completed, warmup included (for per-transaction counters). */
  completed: number;
  errors: number;
  firstError: string | null;
  tps: number;
  p50Ms: number;
  p99Ms: number;
  /** The generator's own CPU (user + system, ms) over the whole run, warmup included. */
  cpuMs: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as LoadConfig;
  const scenario = await createScenario(config);
  let latencies = new Float64Array(1 << 16);
  let measured = 0;
  let completed = 0;
  let errors = 0;
  let firstError: string | null = null;
  const cpuAtStart = process.cpuUsage();
  const start = performance.now();
  const measureFrom = start + config.warmupMs;
  const measureUntil = measureFrom + config.durationMs;

  const lane = async () => {
    while (performance.now() < measureUntil) {
      const t0 = performance.now();
      try {
        await scenario.run();
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        if (errors > 1000 && errors > completed) throw new Error(`too many errors; first: ${firstError}`);
        continue;
      }
      const t1 = performance.now();
      completed++;
      if (t0 >= measureFrom && t1 <= measureUntil) {
        if (measured === latencies.length) {
          const bigger = new Float64Array(latencies.length * 2);
          bigger.set(latencies);
          latencies = bigger;
        }
        latencies[measured++] = t1 - t0;
      }
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, lane));
  await scenario.close();
  const cpu = process.cpuUsage(cpuAtStart);

  const sorted = latencies.subarray(0, measured).sort();
  const pct = (p: number) => (measured === 0 ? 0 : sorted[Math.min(measured - 1, Math.ceil((p / 100) * measured) - 1)]!);
  const result: LoadResult = {
    scenario: config.scenario,
    measured,
    completed,
    errors,
    firstError,
    tps: measured / (config.durationMs / 1000),
    p50Ms: pct(50),
    p99Ms: pct(99),
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`load generator: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
