import { ParticipantDefinitionError } from '../errors.js';
import type { SagaHandler, TccHandler } from './context.js';
import { describeParticipant, isValidName } from './describe-participant.js';
import { recordParticipant, recordTryMethod, requireStandardDecorators, type RecordedTry } from './metadata.js';

/**
 * Marks a class as the participant `name`; its `@TccAction`, `@XaAction`, `@FmtAction`, `@SagaAction` and `@MsgAction` methods become the actions
 * `<name>.<method>`. The class is checked here, when it is defined, so a missing confirm
 * or cancel method fails at import time rather than at the first callback.
 */
export function Participant(name: string) {
  return function participantDecorator<C extends abstract new (...args: never[]) => object>(value: C, context: ClassDecoratorContext<C>): void {
    requireStandardDecorators(context, '@Participant');
    if (context.kind !== 'class') throw new ParticipantDefinitionError('@Participant decorates classes only');
    if (!isValidName(name)) throw new ParticipantDefinitionError(`@Participant name "${name}" must be letters, digits, _ and - separated by dots`);
    recordParticipant(value, name, context.metadata);
    describeParticipant(value);
  };
}

/** The method names of `This`, so `confirm` / `cancel` typos fail type checking too. */
type MethodName<This> = { [K in keyof This]: This[K] extends Function ? K : never }[keyof This] & string;

/**
 * Marks the try method of a TCC action and names its confirm and cancel methods.
 * All three receive a TccContext; what try returns is the try result.
 */
export function TccAction<This>(spec: { name?: string; confirm: MethodName<This>; cancel: MethodName<This> }) {
  return function tccActionDecorator(_value: TccHandler, context: ClassMethodDecoratorContext<This>): void {
    requireStandardDecorators(context, '@TccAction');
    if (context.kind !== 'method' || context.static || context.private || typeof context.name !== 'string') {
      throw new ParticipantDefinitionError(`@TccAction decorates public instance methods only (got ${String(context.name)})`);
    }
    const recorded: RecordedTry = { mode: 'tcc', method: context.name, confirm: spec.confirm, cancel: spec.cancel };
    if (spec.name !== undefined) recorded.name = spec.name;
    recordTryMethod(context.metadata, recorded);
  };
}

/**
 * Marks the action of a saga step (PROTOCOL.md v1.2) and names the method that
 * compensates it. Both receive a SagaContext and run in one local transaction with the
 * barrier; what the action returns is the step's result, handed to later steps and to
 * the compensation.
 */
export function SagaAction<This>(spec: { name?: string; compensate: MethodName<This> }) {
  return function sagaActionDecorator(_value: SagaHandler, context: ClassMethodDecoratorContext<This>): void {
    requireStandardDecorators(context, '@SagaAction');
    if (context.kind !== 'method' || context.static || context.private || typeof context.name !== 'string') {
      throw new ParticipantDefinitionError(`@SagaAction decorates public instance methods only (got ${String(context.name)})`);
    }
    const recorded: RecordedTry = { mode: 'saga', method: context.name, compensate: spec.compensate };
    if (spec.name !== undefined) recorded.name = spec.name;
    recordTryMethod(context.metadata, recorded);
  };
}

/**
 * Marks the action of a message step (PROTOCOL.md v1.2): one method, called once the
 * producer's local transaction committed, and again until it answers 2xx; never
 * compensated. It runs in one local transaction with the barrier, so a repeated delivery
 * answers the first result without running twice.
 */
export function MsgAction(spec: { name?: string } = {}) {
  return function msgActionDecorator(_value: SagaHandler, context: ClassMethodDecoratorContext): void {
    requireStandardDecorators(context, '@MsgAction');
    if (context.kind !== 'method' || context.static || context.private || typeof context.name !== 'string') {
      throw new ParticipantDefinitionError(`@MsgAction decorates public instance methods only (got ${String(context.name)})`);
    }
    const recorded: RecordedTry = { mode: 'msg', method: context.name };
    if (spec.name !== undefined) recorded.name = spec.name;
    recordTryMethod(context.metadata, recorded);
  };
}

/**
 * Marks an XA action: one method that does its business change in `ctx.trx`, with no
 * confirm or cancel method. The SDK runs it as the try inside an XA transaction that it
 * prepares; confirm commits it and cancel rolls it back (MySQL / MariaDB; see the README).
 */
export function XaAction(spec: { name?: string } = {}) {
  return singleMethodAction('xa', '@XaAction', spec);
}

/**
 * Marks an FMT action: one method that makes its business change with plain knex writes
 * in `ctx.trx`, with no confirm or cancel method. The SDK records before and after images
 * and global row locks with the try; confirm forgets them, cancel restores the before
 * images (MySQL / MariaDB / PostgreSQL; see the README's FMT section).
 */
export function FmtAction(spec: { name?: string } = {}) {
  return singleMethodAction('fmt', '@FmtAction', spec);
}

function singleMethodAction(mode: 'xa' | 'fmt', decorator: string, spec: { name?: string }) {
  return function singleMethodActionDecorator(_value: TccHandler, context: ClassMethodDecoratorContext): void {
    requireStandardDecorators(context, decorator);
    if (context.kind !== 'method' || context.static || context.private || typeof context.name !== 'string') {
      throw new ParticipantDefinitionError(`${decorator} decorates public instance methods only (got ${String(context.name)})`);
    }
    const recorded: RecordedTry = { mode, method: context.name };
    if (spec.name !== undefined) recorded.name = spec.name;
    recordTryMethod(context.metadata, recorded);
  };
}
