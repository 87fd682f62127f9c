import { afterEach } from 'vitest';
import { spawnDtx, type DtxProcess } from './coordinator-process.js';
import { startParticipant, type TestParticipant } from './participant.js';
import { freshDatabase, type FreshDatabase, type StoreKind } from './services.js';

/** Short leases, sweeps and retries, so a crash test's recovery comes within seconds. */
export const CRASH_ENV = { DTX_PHASE2_LEASE_MS: '1500', DTX_SWEEP_INTERVAL_MS: '100', DTX_RETRY_BASE_MS: '100', DTX_RETRY_MAX_MS: '500', DTX_CALL_TIMEOUT_MS: '2000' };

export interface CrashStage {
  readonly db: FreshDatabase;
  readonly p: TestParticipant;
  /** A fresh database of the suite's store and a participant, for one test. */
  open(): Promise<void>;
  /** `dtx serve` as a real process on the test's database; every one is SIGKILLed after the test. */
  spawn(): Promise<DtxProcess>;
}

/**
 * The stage of a crash test, called inside a describe block: coordinator processes
 * on a fresh `kind` database (CRASH_ENV, with `env` over it), a participant, and after
 * each test the processes SIGKILLed, the participant closed and the database dropped.
 */
export function crashStage(kind: StoreKind, label: string, env: Record<string, string> = {}): CrashStage {
  let db: FreshDatabase | undefined;
  let p: TestParticipant | undefined;
  const procs: DtxProcess[] = [];
  afterEach(async () => {
    for (const proc of procs.splice(0)) await proc.kill('SIGKILL');
    await p?.close();
    await db?.drop();
    p = undefined;
    db = undefined;
  });
  return {
    get db() {
      return db!;
    },
    get p() {
      return p!;
    },
    async open() {
      db = await freshDatabase(kind, label);
      p = await startParticipant();
    },
    async spawn() {
      const proc = await spawnDtx(['serve'], { ...CRASH_ENV, ...env, DTX_DATABASE_URL: db!.url });
      procs.push(proc);
      return proc;
    },
  };
}

/** A gate a participant's handler waits at until the test releases it (a call the dying coordinator never hears answered). */
export function latch() {
  let open = false;
  const waiting: (() => void)[] = [];
  return {
    async pass(): Promise<void> {
      if (!open) await new Promise<void>((r) => waiting.push(r));
    },
    release(): void {
      open = true;
      for (const r of waiting.splice(0)) r();
    },
  };
}

/**
 * Step actions (a saga's or a message's) that take effect once per (xid, step), as a
 * barrier makes them (a repeat answers the first result without a second effect), and
 * whose action of step `held` hangs until released; compensations counted the same way.
 */
export function heldActions(p: TestParticipant, held: string) {
  const gate = latch();
  const effects = new Map<string, number>();
  const count = (k: string) => effects.set(k, (effects.get(k) ?? 0) + 1);
  const seen = new Set<string>();
  p.on('action', async (call) => {
    if (call.body.branchId === held) await gate.pass();
    const key = `${call.body.xid}/${call.body.branchId}`;
    if (!seen.has(key)) count(`action:${key}`);
    seen.add(key);
    return { status: 200, body: { did: call.body.branchId } };
  });
  p.on('compensate', async (call) => {
    count(`compensate:${call.body.xid}/${call.body.branchId}`);
    return { status: 200, body: {} };
  });
  return { effects, release: gate.release };
}
