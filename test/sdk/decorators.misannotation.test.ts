import { describeParticipant, ensureBarrierTable, knexFromUrl, Participant, participantPlugin, ParticipantDefinitionError, TccAction, type TccContext } from '@dtx/participant-sdk';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { Wallet } from '../../examples/bank/src/wallet.js';
import { XaWallet } from '../../examples/bank/src/xa-wallet.js';
import { newXid } from './support/callbacks.js';

// Mistakes TypeScript would catch are made through `as never`, as plain JavaScript could.
describe('decorators: a mis-annotated class fails when it is defined or registered, not at the first call', () => {
  it('the XA wallet describes its two actions as XA ones, with no confirm or cancel method', () => {
    expect(describeParticipant(XaWallet).actions).toEqual([
      { mode: 'xa', action: 'xawallet.debit', tryMethod: 'debit' },
      { mode: 'xa', action: 'xawallet.credit', tryMethod: 'credit' },
    ]);
  });

  it('the bank wallet describes its two actions with their confirm and cancel methods', () => {
    expect(describeParticipant(Wallet)).toEqual({
      name: 'wallet',
      className: 'Wallet',
      actions: [
        { mode: 'tcc', action: 'wallet.debit', tryMethod: 'debit', confirmMethod: 'confirmDebit', cancelMethod: 'cancelDebit' },
        { mode: 'tcc', action: 'wallet.credit', tryMethod: 'credit', confirmMethod: 'confirmCredit', cancelMethod: 'cancelCredit' },
      ],
    });
  });

  it('a wrapping decorator applied outside @TccAction keeps the action, and the wrapper runs', async () => {
    const calls: string[] = [];
    function logged<This, A extends unknown[], R>(fn: (this: This, ...args: A) => R, context: ClassMethodDecoratorContext<This>) {
      return function (this: This, ...args: A): R {
        calls.push(String(context.name));
        return fn.apply(this, args);
      };
    }
    @Participant('shop')
    class Shop {
      @logged
      @TccAction({ confirm: 'confirmOrder', cancel: 'cancelOrder' })
      async order(_ctx: TccContext): Promise<string> {
        return 'ordered';
      }
      async confirmOrder(_ctx: TccContext): Promise<void> {}
      async cancelOrder(_ctx: TccContext): Promise<void> {}
    }
    expect(describeParticipant(Shop).actions).toEqual([{ mode: 'tcc', action: 'shop.order', tryMethod: 'order', confirmMethod: 'confirmOrder', cancelMethod: 'cancelOrder' }]);

    const knex = knexFromUrl('sqlite::memory:');
    const app = Fastify();
    try {
      await ensureBarrierTable(knex);
      await app.register(participantPlugin, { knex, participants: [new Shop()] });
      const res = await app.inject({ method: 'POST', url: '/dtx/shop.order/try', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ xid: newXid(), branchId: 'b', payload: {} }) });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toBe('ordered');
      expect(calls).toEqual(['order']);
    } finally {
      await app.close();
      await knex.destroy();
    }
  });

  it('a missing cancel method is reported with the class, method and name', () => {
    const define = () => {
      @Participant('shop')
      class Shop {
        @TccAction({ confirm: 'confirmOrder', cancel: 'cancleOrder' as never })
        async order(_ctx: TccContext): Promise<void> {}
        async confirmOrder(_ctx: TccContext): Promise<void> {}
        async cancelOrder(_ctx: TccContext): Promise<void> {}
      }
      return Shop;
    };
    expect(define).toThrow(ParticipantDefinitionError);
    expect(define).toThrow('Shop.order: cancel method "cancleOrder" does not exist on Shop');
  });

  it('a missing confirm method, or confirm equal to cancel, is refused', () => {
    expect(() => {
      @Participant('shop')
      class Shop {
        @TccAction({ confirm: 'nope' as never, cancel: 'undo' })
        async order(_ctx: TccContext): Promise<void> {}
        async undo(_ctx: TccContext): Promise<void> {}
      }
      return Shop;
    }).toThrow('confirm method "nope" does not exist');
    expect(() => {
      @Participant('shop')
      class Shop {
        @TccAction({ confirm: 'undo', cancel: 'undo' })
        async order(_ctx: TccContext): Promise<void> {}
        async undo(_ctx: TccContext): Promise<void> {}
      }
      return Shop;
    }).toThrow('confirm and cancel are the same method');
  });

  it('a class with no action, a bad participant name, and a renamed action that collides are refused', () => {
    expect(() => {
      @Participant('empty')
      class Empty {}
      return Empty;
    }).toThrow('has no @TccAction method');
    expect(() => {
      @Participant('has space')
      class Bad {}
      return Bad;
    }).toThrow(ParticipantDefinitionError);
    expect(() => {
      @Participant('shop')
      class Shop {
        @TccAction({ confirm: 'ok', cancel: 'undo' })
        async order(_ctx: TccContext): Promise<void> {}
        @TccAction({ name: 'order', confirm: 'ok', cancel: 'undo' })
        async order2(_ctx: TccContext): Promise<void> {}
        async ok(_ctx: TccContext): Promise<void> {}
        async undo(_ctx: TccContext): Promise<void> {}
      }
      return Shop;
    }).toThrow('action shop.order is defined twice');
  });

  it('@TccAction on a static method is refused', () => {
    expect(() => {
      class S {
        @TccAction({ confirm: 'x' as never, cancel: 'y' as never })
        static async order(_ctx: TccContext): Promise<void> {}
      }
      return S;
    }).toThrow('public instance methods only');
  });

  it('registering two participants that serve the same action fails at registration', async () => {
    @Participant('wallet')
    class OtherWallet {
      @TccAction({ confirm: 'c', cancel: 'x' })
      async debit(_ctx: TccContext): Promise<void> {}
      async c(_ctx: TccContext): Promise<void> {}
      async x(_ctx: TccContext): Promise<void> {}
    }
    const knex = knexFromUrl('sqlite::memory:');
    const app = Fastify();
    try {
      app.register(participantPlugin, { knex, participants: [new Wallet(), new OtherWallet()] });
      await expect(app.ready()).rejects.toThrow('action wallet.debit is served twice (again by OtherWallet)');
    } finally {
      await app.close().catch(() => {});
      await knex.destroy();
    }
  });

  it('registering an instance of an undecorated class fails at registration', async () => {
    class Plain {
      async debit(): Promise<void> {}
    }
    const knex = knexFromUrl('sqlite::memory:');
    const app = Fastify();
    try {
      app.register(participantPlugin, { knex, participants: [new Plain()] });
      await expect(app.ready()).rejects.toThrow("class Plain is not marked with @Participant('<name>')");
    } finally {
      await app.close().catch(() => {});
      await knex.destroy();
    }
  });

  it('decorators applied as legacy ones (experimentalDecorators on) record the same actions and make the same checks', () => {
    // what TypeScript emits with experimentalDecorators: (prototype, key, descriptor) for each method, then (constructor) for the class
    class Legacy {
      async pay(): Promise<void> {}
      async settle(): Promise<void> {}
      async undo(): Promise<void> {}
    }
    const legacyClass = Participant('legacy') as unknown as (target: Function) => void;
    const legacyMethod = TccAction({ confirm: 'settle', cancel: 'undo' }) as unknown as (target: object, key: string, d: PropertyDescriptor) => void;
    legacyMethod(Legacy.prototype, 'pay', Object.getOwnPropertyDescriptor(Legacy.prototype, 'pay')!);
    legacyClass(Legacy);
    expect(describeParticipant(Legacy)).toEqual({ name: 'legacy', className: 'Legacy', actions: [{ mode: 'tcc', action: 'legacy.pay', tryMethod: 'pay', confirmMethod: 'settle', cancelMethod: 'undo' }] });

    class Missing {
      async pay(): Promise<void> {}
    }
    const missing = TccAction({ confirm: 'settle', cancel: 'pay' }) as unknown as (target: object, key: string, d: PropertyDescriptor) => void;
    missing(Missing.prototype, 'pay', Object.getOwnPropertyDescriptor(Missing.prototype, 'pay')!);
    expect(() => legacyClass(Missing)).toThrow(ParticipantDefinitionError);
    expect(() => legacyClass(Missing)).toThrow('Missing.pay');
  });
});
