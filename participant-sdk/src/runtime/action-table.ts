import type { CallbackBody, Phase } from '@dtx/protocol';
import type { Knex } from 'knex';
import { runInBarrier, type BarrierOutcome } from '../barrier/run-in-barrier.js';
import { ParticipantDefinitionError, UnknownActionError } from '../errors.js';
import type { TccContext, TccHandler } from '../decorators/context.js';
import { describeParticipant } from '../decorators/describe-participant.js';

interface BoundAction {
  handlers: Record<Phase, TccHandler>;
}

export interface Callback {
  action: string;
  body: CallbackBody;
  attempt: number;
}

/**
 * The actions of a set of participant instances, each phase run through the barrier.
 * Building one checks the classes and refuses an action name served twice.
 */
export class ActionTable {
  private readonly actions = new Map<string, BoundAction>();

  constructor(
    private readonly knex: Knex,
    participants: readonly object[],
  ) {
    for (const instance of participants) {
      const definition = describeParticipant(instance.constructor);
      for (const action of definition.actions) {
        if (this.actions.has(action.action)) {
          throw new ParticipantDefinitionError(`action ${action.action} is served twice (again by ${definition.className})`);
        }
        const bound = (method: string): TccHandler => {
          const fn = (instance as Record<string, unknown>)[method] as TccHandler;
          return fn.bind(instance);
        };
        this.actions.set(action.action, {
          handlers: { try: bound(action.tryMethod), confirm: bound(action.confirmMethod), cancel: bound(action.cancelMethod) },
        });
      }
    }
  }

  get names(): string[] {
    return [...this.actions.keys()];
  }

  /** Runs one callback; throws TccRejectedError / TrySuspendedError / the handler's error. */
  async handle({ action, body, attempt }: Callback): Promise<BarrierOutcome<unknown>> {
    const bound = this.actions.get(action);
    if (!bound) throw new UnknownActionError(action);
    const handler = bound.handlers[body.phase];
    return runInBarrier(this.knex, { xid: body.xid, branchId: body.branchId }, body.phase, async (trx) => {
      const ctx: TccContext = {
        xid: body.xid,
        branchId: body.branchId,
        phase: body.phase,
        attempt,
        payload: body.payload,
        tryResult: body.tryResult,
        trx,
      };
      return handler(ctx);
    });
  }
}
