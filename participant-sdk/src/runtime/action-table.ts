import type { CallbackBody, Json, Phase, SagaPhase } from '@dtx/protocol';
import type { Knex } from 'knex';
import { runInBarrier, type BarrierOutcome } from '../barrier/run-in-barrier.js';
import { runSagaPhase } from '../barrier/run-saga-phase.js';
import { InvalidCallbackError, ParticipantDefinitionError, UnknownActionError } from '../errors.js';
import type { SagaContext, SagaHandler, TccContext, TccHandler } from '../decorators/context.js';
import { describeParticipant } from '../decorators/describe-participant.js';
import { requireFmtDialect } from '../fmt/require-fmt-support.js';
import { runFmtPhase, type FmtPhaseSettings } from '../fmt/run-fmt-phase.js';
import { requireXaDialect } from '../xa/require-xa-support.js';
import { runXaPhase, type XaPhaseSettings } from '../xa/run-xa-phase.js';

/** @default { lockWaitSeconds: 1, busyForMs: 10000 } */
const DEFAULT_XA: XaPhaseSettings = { lockWaitSeconds: 1, busyForMs: 10_000 };

/** @default { lockWaitMs: 200, busyForMs: 2000, maxRowsPerStatement: 1000 } */
export const DEFAULT_FMT: FmtPhaseSettings = { lockWaitMs: 200, busyForMs: 2000, maxRowsPerStatement: 1000 };

type BoundAction =
  | { mode: 'tcc'; handlers: Record<Phase, TccHandler> }
  | { mode: 'xa' | 'fmt'; handler: TccHandler }
  | { mode: 'saga'; handlers: Record<SagaPhase, SagaHandler> }
  | { mode: 'msg'; handlers: Pick<Record<SagaPhase, SagaHandler>, 'action'> };

/** The phases each kind of action is called with, i.e. the routes it is served at. */
const PHASES_OF: Record<BoundAction['mode'], readonly CallbackBody['phase'][]> = {
  tcc: ['try', 'confirm', 'cancel'],
  xa: ['try', 'confirm', 'cancel'],
  fmt: ['try', 'confirm', 'cancel'],
  saga: ['action', 'compensate'],
  msg: ['action'],
};

export interface Callback {
  action: string;
  body: CallbackBody;
  attempt: number;
}

/**
 * The actions of a set of participant instances, each phase run through the barrier
 * (an `@XaAction`'s through its XA branch and the barrier, an `@FmtAction`'s through FMT's images and the barrier).
 * Building one checks the classes and refuses an action name served twice.
 */
export class ActionTable {
  private readonly actions = new Map<string, BoundAction>();

  constructor(
    private readonly knex: Knex,
    participants: readonly object[],
    private readonly xa: XaPhaseSettings = DEFAULT_XA,
    private readonly fmt: FmtPhaseSettings = DEFAULT_FMT,
  ) {
    for (const instance of participants) {
      const definition = describeParticipant(instance.constructor);
      for (const action of definition.actions) {
        if (this.actions.has(action.action)) {
          throw new ParticipantDefinitionError(`action ${action.action} is served twice (again by ${definition.className})`);
        }
        const bound = <H extends TccHandler | SagaHandler>(method: string): H => {
          const fn = (instance as Record<string, unknown>)[method] as H;
          return fn.bind(instance) as H;
        };
        this.actions.set(
          action.action,
          action.mode === 'saga'
            ? { mode: 'saga', handlers: { action: bound(action.actionMethod), compensate: bound(action.compensateMethod) } }
            : action.mode === 'msg'
              ? { mode: 'msg', handlers: { action: bound(action.actionMethod) } }
              : action.mode !== 'tcc'
                ? { mode: action.mode, handler: bound(action.tryMethod) }
                : { mode: 'tcc', handlers: { try: bound(action.tryMethod), confirm: bound(action.confirmMethod), cancel: bound(action.cancelMethod) } },
        );
      }
    }
    if (this.xaNames.length > 0) requireXaDialect(knex, this.xaNames);
    if (this.fmtNames.length > 0) requireFmtDialect(knex, this.fmtNames);
  }

  /** The `@FmtAction` actions among them. */
  get fmtNames(): string[] {
    return [...this.actions].filter(([, a]) => a.mode === 'fmt').map(([name]) => name);
  }

  /** The `@XaAction` actions among them. */
  get xaNames(): string[] {
    return [...this.actions].filter(([, a]) => a.mode === 'xa').map(([name]) => name);
  }

  get names(): string[] {
    return [...this.actions.keys()];
  }

  /** Each action with the phases it is called with. */
  get routes(): { action: string; phases: readonly CallbackBody['phase'][] }[] {
    return [...this.actions].map(([action, bound]) => ({ action, phases: PHASES_OF[bound.mode] }));
  }

  /** Runs one callback; throws TccRejectedError / TrySuspendedError / the handler's error. */
  async handle({ action, body, attempt }: Callback): Promise<BarrierOutcome<unknown>> {
    const bound = this.actions.get(action);
    if (!bound) throw new UnknownActionError(action);
    if (!PHASES_OF[bound.mode].includes(body.phase)) throw new InvalidCallbackError(`action ${action} is not called with phase ${body.phase}`);
    // a message step's action is a saga action that is never compensated (PHASES_OF)
    if (bound.mode === 'saga' || bound.mode === 'msg') return this.handleSaga(bound.handlers, { action, body, attempt });
    const phase = body.phase as Phase;
    const key = { xid: body.xid, branchId: body.branchId };
    const handler = bound.mode === 'tcc' ? bound.handlers[phase] : bound.handler;
    const run = async (trx: Knex.Transaction) => {
      const ctx: TccContext = {
        xid: body.xid,
        branchId: body.branchId,
        phase,
        attempt,
        payload: body.payload,
        tryResult: body.tryResult,
        trx,
      };
      return handler(ctx);
    };
    // An XA action's confirm and cancel are the database's: only its try runs the method.
    if (bound.mode === 'xa') return runXaPhase(this.knex, key, phase, run, this.xa);
    // An FMT action's confirm and cancel are the SDK's, from the images its try recorded.
    if (bound.mode === 'fmt') return runFmtPhase(this.knex, key, phase, run, this.fmt);
    return runInBarrier(this.knex, key, phase, run);
  }

  /** A saga step's action or compensation, or a message step's action, through the barrier's saga ops. */
  private handleSaga(handlers: Partial<Record<SagaPhase, SagaHandler>>, { body, attempt }: Callback): Promise<BarrierOutcome<unknown>> {
    const phase = body.phase as SagaPhase;
    return runSagaPhase(this.knex, { xid: body.xid, branchId: body.branchId }, phase, async (trx, actionResult) => {
      const ctx: SagaContext = {
        xid: body.xid,
        branchId: body.branchId,
        phase,
        attempt,
        payload: body.payload,
        results: phase === 'action' ? (body.results ?? {}) : ({} as Record<string, Json>),
        result: phase === 'compensate' ? (actionResult ?? body.result) : undefined,
        trx,
      };
      return handlers[phase]!(ctx);
    });
  }
}
