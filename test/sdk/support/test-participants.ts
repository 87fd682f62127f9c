import { Participant, TccAction, TccRejectedError, type TccContext } from '@dtx/participant-sdk';
import { setTimeout as sleep } from 'node:timers/promises';

/** A participant whose handlers do what the payload says, to see each HTTP answer. */
@Participant('probe')
export class Probe {
  @TccAction({ confirm: 'confirm', cancel: 'cancel' })
  async act(ctx: TccContext<{ do: 'ok' | 'reject' | 'crash' | 'crash-404' | 'nothing' | 'string'; failAttempts?: number }>): Promise<unknown> {
    if ((ctx.payload.failAttempts ?? 0) >= ctx.attempt) throw new Error(`attempt ${ctx.attempt} fails on purpose`);
    switch (ctx.payload.do) {
      case 'reject':
        throw new TccRejectedError('no thanks', { why: 'asked to' });
      case 'crash':
        throw new Error('crashed');
      case 'crash-404':
        // What an HTTP client or http-errors throws when the handler's own dependency answers 404.
        throw Object.assign(new Error('inventory service: not found'), { statusCode: 404, code: 'ERR_UPSTREAM' });
      case 'nothing':
        return undefined;
      case 'string':
        return 'plain';
      default:
        return { attempt: ctx.attempt, xid: ctx.xid };
    }
  }

  /** What phase 2 received, for tests to read back. */
  readonly phase2: { phase: string; xid: string; tryResult: unknown; payload: unknown }[] = [];

  async confirm(ctx: TccContext): Promise<void> {
    this.phase2.push({ phase: ctx.phase, xid: ctx.xid, tryResult: ctx.tryResult, payload: ctx.payload });
  }

  /** `payload.cancelDelayMs` keeps a cancel running that long, so a rollback stays `rolling_back` meanwhile. */
  async cancel(ctx: TccContext<{ cancelDelayMs?: number }>): Promise<void> {
    await sleep(ctx.payload?.cancelDelayMs ?? 0);
    this.phase2.push({ phase: ctx.phase, xid: ctx.xid, tryResult: ctx.tryResult, payload: ctx.payload });
  }
}
