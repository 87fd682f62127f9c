import { isTransient } from '@dtx/protocol';
import type { CallAnswer, CallRequest, ParticipantCaller } from '../phase2/participant-caller.js';
import type { OriginCircuits } from './origin-circuit.js';

/**
 * A ParticipantCaller that consults per-origin circuits. A call to an origin whose
 * circuit is open is not made: it fails at once with a Retry-After of the time
 * left, so phase 2 takes its normal failure path and the log schedules the retry
 * for when the circuit half-opens (plus jitter, so they do not all come back at once).
 */
export class CircuitBreakingCaller implements ParticipantCaller {
  /** Calls held back by an open circuit, for the worker's stats. */
  heldBack = 0;

  constructor(
    private readonly inner: ParticipantCaller,
    private readonly circuits: OriginCircuits,
    private readonly random: () => number = Math.random,
  ) {}

  async call(req: CallRequest): Promise<CallAnswer> {
    const origin = originOf(req.url);
    const admission = this.circuits.admit(origin);
    if (!admission.ok) {
      this.heldBack++;
      const retryAfterMs = Math.ceil(admission.retryAfterMs * (1 + 0.25 * this.random()));
      return { kind: 'retry', status: null, retryAfterMs, error: `circuit open for ${origin}, not called (retry in ${retryAfterMs} ms)` };
    }
    const answer = await this.inner.call(req);
    this.circuits.record(origin, isHealthy(answer));
    return answer;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A business refusal (409, 422, other 4xx) still proves the participant is up. */
export function isHealthy(answer: CallAnswer): boolean {
  return !isTransient(answer.status);
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
