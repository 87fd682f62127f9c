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

export function recordTryMethod(metadata: DecoratorMetadataObject, recorded: RecordedTry): void {
  // A subclass's metadata inherits from its parent's: copy the parent's map before adding to it.
  const inherited = metadata[TRY_METHODS] as Map<string, RecordedTry> | undefined;
  const own = Object.hasOwn(metadata, TRY_METHODS) ? inherited! : new Map(inherited);
  own.set(recorded.method, recorded);
  metadata[TRY_METHODS] = own;
}

export function recordParticipant(cls: Function, name: string, metadata: DecoratorMetadataObject): void {
  participants.set(cls, { name, metadata });
}

export function participantNameOf(cls: Function): string | undefined {
  return participants.get(cls)?.name;
}

/** The action methods (`@TccAction`, `@XaAction`, `@FmtAction`, `@SagaAction`) of a participant class (its own and inherited), by method name. */
export function tryMethodsOf(cls: Function): ReadonlyMap<string, RecordedTry> {
  return (participants.get(cls)?.metadata[TRY_METHODS] as Map<string, RecordedTry> | undefined) ?? new Map();
}

/** Where a method decorator was applied, under either flavour of decorators. */
export interface MethodSite {
  method: string;
  metadata: DecoratorMetadataObject;
}

/**
 * The class's metadata and the method's name, told apart by the arguments' shape:
 * standard (TC39) decorators get `(value, context)` with `context.kind`; TypeScript's
 * `experimentalDecorators` (NestJS's setting) gets `(prototype, key, descriptor)`.
 * Only public instance methods can be actions.
 */
export function methodSite(args: readonly unknown[], decorator: string): MethodSite {
  const [first, second] = args;
  if (typeof second === 'object' && second !== null && 'kind' in second) {
    const context = second as ClassMethodDecoratorContext;
    if (context.kind !== 'method' || context.static || context.private || typeof context.name !== 'string') {
      throw new ParticipantDefinitionError(`${decorator} decorates public instance methods only (got ${String(context.name)})`);
    }
    return { method: context.name, metadata: requireMetadata(context.metadata) };
  }
  // legacy: a static method's target is the constructor, an instance method's its prototype
  if (typeof second !== 'string' || typeof first !== 'object' || first === null || typeof (args[2] as PropertyDescriptor | undefined)?.value !== 'function') {
    throw new ParticipantDefinitionError(`${decorator} decorates public instance methods only (got ${String(second)})`);
  }
  return { method: second, metadata: legacyMetadataOf((first as { constructor: Function }).constructor) };
}

/**
 * The class's metadata, under either flavour: standard class decorators get
 * `(value, context)`; legacy ones `(constructor)`, after the methods' decorators ran.
 */
export function classMetadata(cls: Function, context: unknown): DecoratorMetadataObject {
  if (typeof context === 'object' && context !== null && 'kind' in context) {
    if ((context as ClassDecoratorContext).kind !== 'class') throw new ParticipantDefinitionError('@Participant decorates classes only');
    return requireMetadata((context as ClassDecoratorContext).metadata);
  }
  if (typeof cls !== 'function') throw new ParticipantDefinitionError('@Participant decorates classes only');
  return legacyMetadataOf(cls);
}

/** Legacy decorators get no metadata object: one per class, inheriting its parent's as standard metadata does. */
const legacyMetadata = new WeakMap<Function, DecoratorMetadataObject>();

function legacyMetadataOf(cls: Function): DecoratorMetadataObject {
  let metadata = legacyMetadata.get(cls);
  if (metadata === undefined) {
    const parent = Object.getPrototypeOf(cls) as Function | null;
    metadata = Object.create(parent && parent !== Function.prototype ? legacyMetadataOf(parent) : null) as DecoratorMetadataObject;
    legacyMetadata.set(cls, metadata);
  }
  return metadata;
}

function requireMetadata(metadata: DecoratorMetadataObject | undefined): DecoratorMetadataObject {
  if (metadata === undefined) {
    throw new ParticipantDefinitionError('decorators get no context.metadata: compile with TypeScript >= 5.2 or esbuild >= 0.21 (or turn on "experimentalDecorators")');
  }
  return metadata;
}
