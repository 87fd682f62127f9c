import fc from 'fast-check';
import type { DtxProcess } from './coordinator-process.js';
import { eventually } from './http.js';
import type { TestParticipant } from './participant.js';
import type { StoreKind } from './services.js';

/**
 * What the property tests of the v1.2 modes share (saga.property, msg.property): random
 * participant answers, random step graphs, and a real coordinator process SIGKILLed at
 * random moments and replaced by another on the same log.
 *
 * DTX_PROPERTY_RUNS: runs per store; DTX_PROPERTY_SEED: replay a run (the seed is printed);
 * DTX_PROPERTY_STORES: `sqlite,mysql` (default); DTX_PROPERTY_SHRINK=1: shrink a
 * counterexample (slow: every shrink step runs real processes again).
 */
export const PROPERTY_SEED = Number(process.env.DTX_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
export const PROPERTY_STORES = (process.env.DTX_PROPERTY_STORES ?? 'sqlite,mysql').split(',') as StoreKind[];

/** fast-check's settings for `runs` runs (DTX_PROPERTY_RUNS wins): the file's seed, no shrinking unless asked. */
export function propertyRuns(runs: number): { numRuns: number; seed: number; endOnFailure: boolean; verbose: 1 } {
  return { numRuns: Number(process.env.DTX_PROPERTY_RUNS ?? runs), seed: PROPERTY_SEED, endOnFailure: process.env.DTX_PROPERTY_SHRINK !== '1', verbose: 1 };
}

export const CALL_TIMEOUT_MS = 400;
/** A hang answers this long after the call: past the coordinator's call timeout. */
export const HANG_MS = 900;
/** Over crash-stage.ts's CRASH_ENV: retries and a call timeout short enough for many rounds per run. */
export const PROPERTY_ENV = { DTX_RETRY_BASE_MS: '50', DTX_RETRY_MAX_MS: '300', DTX_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS), DTX_LOG_LEVEL: 'warn' };

/** How a participant answers one call: 2xx, 409, 503, or a hang past the call timeout. */
export type Drawn = 'ok' | 'refuse' | 'fail' | 'hang';
/** Mostly 2xx, so that runs get somewhere. */
export const drawn = fc.constantFrom<Drawn>('ok', 'ok', 'ok', 'ok', 'fail', 'hang', 'refuse');
/** A call's answers, in turn (2xx once they run out). */
export const script = fc.array(drawn, { maxLength: 3 });

/** A random step graph of n steps: one at a time in array order, or an acyclic `after` graph listed in a random order. */
export interface StepGraph {
  shape: 'array' | 'after';
  /** Step i may come after steps 0..i-1 (acyclic by construction); the array lists them in `order`. */
  deps: number[][];
  order: number[];
}

export function stepGraph(n: number): fc.Arbitrary<StepGraph> {
  const range = (k: number) => Array.from({ length: k }, (_, i) => i);
  return fc.record({
    shape: fc.constantFrom<'array' | 'after'>('array', 'after'),
    deps: fc.tuple(...range(n).map((i) => fc.subarray(range(i)))),
    order: fc.shuffledSubarray(range(n), { minLength: n, maxLength: n }),
  });
}

export interface GraphStep {
  branchId: string;
  /** Its index in the generated graph (its scripts' index). */
  index: number;
  /** The steps it runs after, transitively. */
  ancestors: Set<string>;
  /** Its `after` as sent (`after` shape), or the previous step (array). */
  direct: string[];
}

/** A graph's steps in array order, with what each runs after. */
export function graphSteps(g: StepGraph): GraphStep[] {
  const id = (i: number) => `s${i}`;
  const direct = new Map<string, string[]>();
  g.order.forEach((i, pos) => direct.set(id(i), g.shape === 'after' ? g.deps[i]!.map(id) : pos === 0 ? [] : [id(g.order[pos - 1]!)]));
  const ancestors = (b: string, seen = new Set<string>()): Set<string> => {
    for (const d of direct.get(b)!) if (!seen.has(d)) ancestors(d, seen.add(d));
    return seen;
  };
  return g.order.map((i) => ({ branchId: id(i), index: i, ancestors: ancestors(id(i)), direct: direct.get(id(i))! }));
}

/** The `after` field to send for a step: only in the `after` shape. */
export const afterField = (g: StepGraph, s: GraphStep) => (g.shape === 'after' ? { after: s.direct } : {});

/**
 * Crashes of one run: none, or one or two, each the ms at which the coordinator is
 * SIGKILLed and another started on its log, counted from the run's first participant
 * call (or its requests' answers), then from the restart.
 */
export const crashPlan = fc.oneof(fc.constant<number[]>([]), fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 2 }));

/** The coordinator of a property test: one real `dtx serve` process at a time on one log (a crash stage's spawn). */
export class CrashingCoordinator {
  #current: DtxProcess | null = null;
  crashes = 0;

  constructor(private readonly spawn: () => Promise<DtxProcess>) {}

  get url(): string {
    return this.#current!.url;
  }

  async start(): Promise<void> {
    this.#current = await this.spawn();
  }

  /**
   * Runs `plan` once the participant sees a call of one of `xids` or `settled` resolves:
   * each crash a SIGKILL and a new process on the same log.
   */
  async crash(plan: number[], p: TestParticipant, xids: string[], settled: Promise<unknown>): Promise<void> {
    await Promise.race([settled, eventually(async () => p.calls.some((c) => xids.includes(c.body.xid)), 60_000, 5)]);
    for (const ms of plan) {
      await new Promise((r) => setTimeout(r, ms));
      await this.#current!.kill('SIGKILL');
      this.crashes++;
      await this.start();
    }
  }
}
