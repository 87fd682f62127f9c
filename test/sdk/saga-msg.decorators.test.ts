import { describeParticipant, ensureBarrierTable, knexFromUrl, MsgAction, Participant, participantPlugin, ParticipantDefinitionError, SagaAction, TccAction, type SagaContext, type TccContext } from '@dtx/participant-sdk';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { Mailer } from '../../examples/bank/src/mailer.js';
import { SagaWallet } from '../../examples/bank/src/saga-wallet.js';
import { newXid } from './support/callbacks.js';

// Mistakes TypeScript would catch are made through `as never`, as plain JavaScript could.
describe('@SagaAction and @MsgAction: a mis-annotated participant fails when its class is defined', () => {
  it('the saga wallet describes its two actions with their compensations', () => {
    expect(describeParticipant(SagaWallet).actions).toEqual([
      { mode: 'saga', action: 'sagawallet.debit', actionMethod: 'debit', compensateMethod: 'refundDebit' },
      { mode: 'saga', action: 'sagawallet.credit', actionMethod: 'credit', compensateMethod: 'reverseCredit' },
    ]);
  });

  it('the mailer describes its message action, with nothing to compensate; @MsgAction on a static method is refused', () => {
    expect(describeParticipant(Mailer).actions).toEqual([{ mode: 'msg', action: 'mailer.welcome', actionMethod: 'welcome' }]);
    expect(() => {
      @Participant('news')
      class News {
        @MsgAction()
        static async send(_ctx: SagaContext): Promise<void> {}
      }
      return News;
    }).toThrow('@MsgAction decorates public instance methods only (got send)');
  });

  it('a compensate method that does not exist is named with its class and action method', () => {
    const define = () => {
      @Participant('shop')
      class Shop {
        @SagaAction({ compensate: 'refund' as never })
        async pay(_ctx: SagaContext): Promise<void> {}
      }
      return Shop;
    };
    expect(define).toThrow(ParticipantDefinitionError);
    expect(define).toThrow('Shop.pay: compensate method "refund" does not exist on Shop');
  });

  it('the action as its own compensation, or another action as it, is refused', () => {
    expect(() => {
      @Participant('shop')
      class Shop {
        @SagaAction({ compensate: 'pay' })
        async pay(_ctx: SagaContext): Promise<void> {}
      }
      return Shop;
    }).toThrow('Shop.pay: the compensate method cannot be the action method itself');
    expect(() => {
      @Participant('shop')
      class Shop {
        @SagaAction({ compensate: 'ship' })
        async pay(_ctx: SagaContext): Promise<void> {}
        @SagaAction({ compensate: 'unship' })
        async ship(_ctx: SagaContext): Promise<void> {}
        async unship(_ctx: SagaContext): Promise<void> {}
      }
      return Shop;
    }).toThrow('Shop.pay: compensate method "ship" is itself an action method (@TccAction, @XaAction, @FmtAction, @SagaAction or @MsgAction)');
  });

  it('on a static method, or applied as a legacy (experimentalDecorators) decorator, it says so', () => {
    expect(() => {
      @Participant('shop')
      class Shop {
        @SagaAction({ compensate: 'refund' as never })
        static async pay(_ctx: SagaContext): Promise<void> {}
        async refund(_ctx: SagaContext): Promise<void> {}
      }
      return Shop;
    }).toThrow('@SagaAction decorates public instance methods only (got pay)');
    const legacy = SagaAction({ compensate: 'refund' }) as unknown as (target: object, key: string, desc: PropertyDescriptor) => void;
    expect(() => legacy({}, 'pay', {})).toThrow('turn off "experimentalDecorators"');
  });

  it('a saga action is served at …/action and …/compensate only, a message action at …/action only, a TCC action at its three phases only (404 otherwise)', async () => {
    @Participant('mixed')
    class Mixed {
      @SagaAction({ compensate: 'unbook' })
      async book(ctx: SagaContext<{ n: number }>): Promise<{ booked: number }> {
        return { booked: ctx.payload.n };
      }
      async unbook(_ctx: SagaContext<{ n: number }, { booked: number }>): Promise<void> {}
      @TccAction({ confirm: 'confirmHold', cancel: 'cancelHold' })
      async hold(_ctx: TccContext): Promise<void> {}
      async confirmHold(_ctx: TccContext): Promise<void> {}
      async cancelHold(_ctx: TccContext): Promise<void> {}
      @MsgAction({ name: 'note' })
      async noteIt(_ctx: SagaContext): Promise<void> {}
    }
    const knex = knexFromUrl('sqlite::memory:');
    const app = Fastify();
    try {
      await ensureBarrierTable(knex);
      await app.register(participantPlugin, { knex, participants: [new Mixed()] });
      const post = (url: string, phase: string) =>
        app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ xid: newXid(), branchId: 'b', phase, payload: { n: 2 } }) });
      const action = await post('/dtx/mixed.book/action', 'action');
      expect([action.statusCode, action.json()]).toEqual([200, { booked: 2 }]);
      expect((await post('/dtx/mixed.book/compensate', 'compensate')).statusCode).toBe(204);
      expect((await post('/dtx/mixed.book/try', 'try')).statusCode).toBe(404);
      expect((await post('/dtx/mixed.hold/action', 'action')).statusCode).toBe(404);
      expect((await post('/dtx/mixed.hold/try', 'try')).statusCode).toBe(204);
      // a message action is delivered, never compensated
      expect((await post('/dtx/mixed.note/action', 'action')).statusCode).toBe(204);
      expect((await post('/dtx/mixed.note/compensate', 'compensate')).statusCode).toBe(404);
      // a body naming another phase than its route is refused, as for TCC
      expect((await post('/dtx/mixed.book/action', 'compensate')).statusCode).toBe(400);
    } finally {
      await app.close();
      await knex.destroy();
    }
  });
});
