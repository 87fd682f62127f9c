import { ParticipantDefinitionError } from '../errors.js';

/**
 * What the decorators record, by method name in the class's decorator metadata, so a
 * decorator that wraps a try method (applied outside `@TccAction`) keeps its action.
 * Node 20 has no `Symbol.metadata`, without which TypeScript gives decorators no
 * `context.metadata`; defining it here, before any participant class is evaluated (as
 * TypeScript 5.2's notes suggest, and as esbuild assumes), turns it on.
 */
(Symbol as { metadata?: symbol }).metadata ??= Symbol.for('Symbol.metadata');

export interface TryMethodSpec {
  /** Action name after the participant's dot. @default the method name */
  name?: string;
  /** The method that confirms this try. */
  confirm: string;
  /** The method that cancels this try. */
  cancel: string;
}

/**
 * A `@TccAction` try method, an `@XaAction` / `@FmtAction` method (the SDK's XA
 * commit and rollback, or FMT's image-based undo, are its confirm and cancel), or a
 * `@SagaAction` method and the method that compensates it, or an `@MsgAction` method.
 */
export type RecordedTry =
  | (TryMethodSpec & { mode: 'tcc'; method: string })
  | { mode: 'xa' | 'fmt'; method: string; name?: string }
  | { mode: 'saga'; method: string; name?: string; compensate: string }
  | { mode: 'msg'; method: string; name?: string };

const TRY_METHODS = Symbol('dtx.tryMethods');

/** The class decorator's metadata (a subclass's inherits its parent's) and the participant name, by class. */
const participants = new WeakMap<Function, { name: string; metadata: DecoratorMetadataObject }>();

export function recordTryMethod(metadata: DecoratorMetadataObject | undefined, recorded: RecordedTry): void {
  // A subclass's metadata inherits from its parent's: copy the parent's map before adding to it.
  const inherited = requireMetadata(metadata)[TRY_METHODS] as Map<string, RecordedTry> | undefined;
  const own = Object.hasOwn(metadata!, TRY_METHODS) ? inherited! : new Map(inherited);
  own.set(recorded.method, recorded);
  metadata![TRY_METHODS] = own;
}

export function recordParticipant(cls: Function, name: string, metadata: DecoratorMetadataObject | undefined): void {
  participants.set(cls, { name, metadata: requireMetadata(metadata) });
}

export function participantNameOf(cls: Function): string | undefined {
  return participants.get(cls)?.name;
}

/** The action methods (`@TccAction`, `@XaAction`, `@FmtAction`, `@SagaAction`) of a participant class (its own and inherited), by method name. */
export function tryMethodsOf(cls: Function): ReadonlyMap<string, RecordedTry> {
  return (participants.get(cls)?.metadata[TRY_METHODS] as Map<string, RecordedTry> | undefined) ?? new Map();
}

/**
 * TypeScript's `experimentalDecorators` calls a decorator with (target, key, descriptor)
 * instead of (value, context): name the setting rather than fail on a missing `kind`.
 */
export function requireStandardDecorators(context: unknown, decorator: string): void {
  if (typeof context !== 'object' || context === null || !('kind' in context)) {
    throw new ParticipantDefinitionError(
      `${decorator} is a standard (TC39) decorator, but it was called as a legacy one: turn off "experimentalDecorators" in tsconfig.json`,
    );
  }
}

function requireMetadata(metadata: DecoratorMetadataObject | undefined): DecoratorMetadataObject {
  if (metadata === undefined) {
    throw new ParticipantDefinitionError('decorators get no context.metadata: compile with TypeScript >= 5.2 or esbuild >= 0.21 (standard decorators, "experimentalDecorators" off)');
  }
  return metadata;
}
