import type { Json, Phase, SagaPhase } from '@dtx/protocol';
import type { Knex } from 'knex';

/** What every try, confirm and cancel handler receives. */
export interface TccContext<Payload = unknown, TryResult = unknown> {
  readonly xid: string;
  readonly branchId: string;
  readonly phase: Phase;
  /** 1-based, from `dtx-attempt`. */
  readonly attempt: number;
  readonly payload: Payload;
  /** What try returned, for confirm and cancel (when the coordinator learnt it). */
  readonly tryResult: TryResult | undefined;
  /** The local transaction that also holds the barrier row: do the business change in it. */
  readonly trx: Knex.Transaction;
}

// `any` in the parameter position lets a handler declare any payload type and still match.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TccHandler = (ctx: TccContext<any, any>) => unknown;

/** Method names of T that look like TCC handlers. */
export type HandlerKeys<T> = { [K in keyof T]: T[K] extends TccHandler ? K : never }[keyof T] & string;

/** The payload type a handler of T declares. */
export type PayloadOf<T, K extends keyof T> = T[K] extends (ctx: TccContext<infer P, infer _R>) => unknown ? P : never;

/** What a try handler of T resolves to, i.e. the try result an initiator receives. */
export type TryResultOf<T, K extends keyof T> = T[K] extends (...args: never[]) => infer R ? Awaited<R> : never;

/** What a saga step's action and its compensation receive (PROTOCOL.md v1.2). */
export interface SagaContext<Payload = unknown, Result = unknown> {
  readonly xid: string;
  readonly branchId: string;
  readonly phase: SagaPhase;
  /** 1-based, from `dtx-attempt`. */
  readonly attempt: number;
  readonly payload: Payload;
  /** For an action: what the saga's finished earlier steps answered, by branchId (empty for a compensation). */
  readonly results: Readonly<Record<string, Json>>;
  /**
   * For a compensation: what this step's action returned (as the barrier kept it with the
   * action, else as the coordinator sent it). Undefined for an action.
   */
  readonly result: Result | undefined;
  /** The local transaction that also holds the barrier row: do the business change in it. */
  readonly trx: Knex.Transaction;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SagaHandler = (ctx: SagaContext<any, any>) => unknown;

/** Method names of T that look like saga actions. */
export type SagaHandlerKeys<T> = { [K in keyof T]: T[K] extends SagaHandler ? K : never }[keyof T] & string;

/** The payload type a saga action of T declares. */
export type SagaPayloadOf<T, K extends keyof T> = T[K] extends (ctx: SagaContext<infer P, infer _R>) => unknown ? P : never;
