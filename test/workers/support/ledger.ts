import { startParticipant, type ReceivedCall, type TestParticipant } from '../../support/participant.js';

export type Mode = 'ok' | 'fail' | 'hang';

/**
 * A TestParticipant that keeps books (tries of action `w.reject` are refused with 409): confirm/cancel answer as `mode` says, and
 * every call answered 2xx counts as the effect applied, per xid/branch. A real
 * participant's barrier would absorb a second application; counting them shows
 * whether recovery ever drove a branch twice.
 */
export class LedgerParticipant {
  readonly applied = new Map<string, number>();
  mode: Record<'confirm' | 'cancel', Mode> = { confirm: 'ok', cancel: 'ok' };
  /** How long a hanging call is held before it answers 503. */
  hangMs = 4000;

  private constructor(readonly p: TestParticipant) {
    for (const phase of ['confirm', 'cancel'] as const) p.on(phase, (call) => this.#answer(phase, call));
    p.on('try', () => ({ status: 409, body: { error: 'rejected by the business' } }), 'w.reject');
  }

  static async start(): Promise<LedgerParticipant> {
    return new LedgerParticipant(await startParticipant());
  }

  get url(): string {
    return this.p.url;
  }

  urls(action: string) {
    return this.p.urls(action);
  }

  calls(phase: 'confirm' | 'cancel', xid?: string): ReceivedCall[] {
    return this.p.callsOf(phase, xid);
  }

  appliedCount(phase: 'confirm' | 'cancel', xid: string, branchId: string): number {
    return this.applied.get(`${phase}/${xid}/${branchId}`) ?? 0;
  }

  close(): Promise<void> {
    return this.p.close();
  }

  #answer(phase: 'confirm' | 'cancel', call: ReceivedCall) {
    const mode = this.mode[phase];
    if (mode === 'fail') return { status: 503, body: { error: 'down for the test' } };
    if (mode === 'hang') return { status: 503, delayMs: this.hangMs, body: { error: 'too slow' } };
    const key = `${phase}/${call.body.xid}/${call.body.branchId}`;
    this.applied.set(key, (this.applied.get(key) ?? 0) + 1);
    return { status: 200, body: {} };
  }
}
