import { ParticipantDefinitionError } from '../errors.js';
import type { SagaHandler, TccHandler } from './context.js';
import { describeParticipant, isValidName } from './describe-participant.js';
import { classMetadata, methodSite, recordParticipant, recordTryMethod, type RecordedTry } from './metadata.js';

/**
 * Marks a class as the participant `name`; its `@TccAction`, `@XaAction`, `@FmtAction`, `@SagaAction` and `@MsgAction` methods become the actions
 * `<name>.<method>`. The class is checked here, when it is defined, so a missing confirm
 * or cancel method fails at import time rather than at the first callback.
 */
export function Participant(name: string) {
  // standard decorators pass (class, context); experimentalDecorators the class alone
  return function participantDecorator<C extends abstract new (...args: never[]) => object>(value: C, context?: ClassDecoratorContext<C>): void {
    const metadata = classMetadata(value, context);
    if (!isValidName(name)) throw new ParticipantDefinitionError(`@Participant name "${name}" must be letters, digits, _ and - separated by dots`);
    recordParticipant(value, name, metadata);
    describeParticipant(value);
  };
}

/** The method names of `This`, so `confirm` / `cancel` typos fail type checking too (standard decorators). */
type MethodName<This> = { [K in keyof This]: This[K] extends Function ? K : never }[keyof This] & string;

/**
 * A method decorator of either flavour, typed so the decorated method must be a `Handler`
 * (a TCC try takes a TccContext, a saga action a SagaContext): `(method, context)` under
 * standard decorators, `(prototype, key, descriptor)` under experimentalDecorators.
 * TypeScript infers `This` from the standard context only: the legacy prototype is not
 * typed `This`, or the standard method would be inferred as `This` from the same argument
 * position. Under experimentalDecorators the method names are checked when the class is
 * defined (describeParticipant), not by the type checker.
 */
export interface ActionDecorator<This, Handler extends TccHandler | SagaHandler> {
  <M extends Handler>(method: M, context: ClassMethodDecoratorContext<This, M>): void;
  <M extends Handler>(prototype: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>): void;
}

function actionDecorator<This, Handler extends TccHandler | SagaHandler>(decorator: string, record: (method: string) => RecordedTry): ActionDecorator<This, Handler> {
  return function recordAction(...args: unknown[]): void {
    const { method, metadata } = methodSite(args, decorator);
    recordTryMethod(metadata, record(method));
  };
}

/** The action name, when given, beside what the decorator recorded. */
function named<R extends RecordedTry>(recorded: R, name: string | undefined): R {
  return name === undefined ? recorded : { ...recorded, name };
}

/**
 * Marks the try method of a TCC action and names its confirm and cancel methods.
 * All three receive a TccContext; what try returns is the try result.
 */
export function TccAction<This>(spec: { name?: string; confirm: MethodName<This>; cancel: MethodName<This> }): ActionDecorator<This, TccHandler> {
  return actionDecorator('@TccAction', (method) => named({ mode: 'tcc', method, confirm: spec.confirm, cancel: spec.cancel }, spec.name));
}

/**
 * Marks the action of a saga step (PROTOCOL.md v1.2) and names the method that
 * compensates it. Both receive a SagaContext and run in one local transaction with the
 * barrier; what the action returns is the step's result, handed to later steps and to
 * the compensation.
 */
export function SagaAction<This>(spec: { name?: string; compensate: MethodName<This> }): ActionDecorator<This, SagaHandler> {
  return actionDecorator('@SagaAction', (method) => named({ mode: 'saga', method, compensate: spec.compensate }, spec.name));
}

/**
 * Marks the action of a message step (PROTOCOL.md v1.2): one method, called once the
 * producer's local transaction committed, and again until it answers 2xx; never
 * compensated. It runs in one local transaction with the barrier, so a repeated delivery
 * answers the first result without running twice.
 */
export function MsgAction(spec: { name?: string } = {}): ActionDecorator<unknown, SagaHandler> {
  return actionDecorator('@MsgAction', (method) => named({ mode: 'msg', method }, spec.name));
}

/**
 * Marks an XA action: one method that does its business change in `ctx.trx`, with no
 * confirm or cancel method. The SDK runs it as the try inside an XA transaction that it
 * prepares; confirm commits it and cancel rolls it back (MySQL / MariaDB; see the README).
 */
export function XaAction(spec: { name?: string } = {}): ActionDecorator<unknown, TccHandler> {
  return actionDecorator('@XaAction', (method) => named({ mode: 'xa', method }, spec.name));
}

/**
 * Marks an FMT action: one method that makes its business change with plain knex writes
 * in `ctx.trx`, with no confirm or cancel method. The SDK records before and after images
 * and global row locks with the try; confirm forgets them, cancel restores the before
 * images (MySQL / MariaDB / PostgreSQL; see the README's FMT section).
 */
export function FmtAction(spec: { name?: string } = {}): ActionDecorator<unknown, TccHandler> {
  return actionDecorator('@FmtAction', (method) => named({ mode: 'fmt', method }, spec.name));
}
