import { ParticipantDefinitionError } from '../errors.js';
import { participantNameOf, tryMethodsOf } from './metadata.js';

/** Action and participant names appear in callback URLs, so they keep to URL-safe characters. */
const NAME_RE = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

export type ActionDefinition =
  /** `action` is `<participant>.<name>`, e.g. `wallet.debit`. */
  | { mode: 'tcc'; action: string; tryMethod: string; confirmMethod: string; cancelMethod: string }
  /** Its confirm and cancel are the database's XA COMMIT and XA ROLLBACK (xa), or the SDK's image-based undo (fmt). */
  | { mode: 'xa' | 'fmt'; action: string; tryMethod: string }
  /** A saga step's action and its compensation (v1.2). */
  | { mode: 'saga'; action: string; actionMethod: string; compensateMethod: string }
  /** A message step's action (v1.2): delivered until it succeeds, never compensated. */
  | { mode: 'msg'; action: string; actionMethod: string };

export interface ParticipantDefinition {
  name: string;
  className: string;
  actions: ActionDefinition[];
}

export function isValidName(name: string): boolean {
  return name.length > 0 && name.length <= 128 && NAME_RE.test(name);
}

/**
 * Reads and checks the decorators of a participant class. Throws ParticipantDefinitionError
 * for every mistake that would otherwise surface only at the first callback.
 */
export function describeParticipant(cls: Function): ParticipantDefinition {
  const className = cls.name || '(anonymous class)';
  const name = participantNameOf(cls);
  if (name === undefined) throw new ParticipantDefinitionError(`class ${className} is not marked with @Participant('<name>')`);
  const actions: ActionDefinition[] = [];
  const seen = new Set<string>();
  const tryMethods = tryMethodsOf(cls);
  for (const method of methodsOf(cls)) {
    const spec = tryMethods.get(method);
    if (!spec) continue;
    const where = `${className}.${method}`;
    const actionName = spec.name ?? method;
    if (!isValidName(actionName)) throw new ParticipantDefinitionError(`${where}: action name "${actionName}" must match ${NAME_RE}`);
    const action = `${name}.${actionName}`;
    if (seen.has(action)) throw new ParticipantDefinitionError(`${where}: action ${action} is defined twice in ${className}`);
    seen.add(action);
    if (spec.mode === 'saga') {
      checkSecondMethod(cls, where, 'compensate', spec.compensate, method, 'action');
      actions.push({ mode: 'saga', action, actionMethod: method, compensateMethod: spec.compensate });
      continue;
    }
    if (spec.mode === 'msg') {
      actions.push({ mode: 'msg', action, actionMethod: method });
      continue;
    }
    if (spec.mode !== 'tcc') {
      actions.push({ mode: spec.mode, action, tryMethod: method });
      continue;
    }
    for (const role of ['confirm', 'cancel'] as const) checkSecondMethod(cls, where, role, spec[role], method, 'try');
    if (spec.confirm === spec.cancel) throw new ParticipantDefinitionError(`${where}: confirm and cancel are the same method "${spec.confirm}"`);
    actions.push({ mode: 'tcc', action, tryMethod: method, confirmMethod: spec.confirm, cancelMethod: spec.cancel });
  }
  if (actions.length === 0) throw new ParticipantDefinitionError(`participant ${name} (${className}) has no @TccAction method (nor an @XaAction, @FmtAction, @SagaAction or @MsgAction one)`);
  return { name, className, actions };
}

/** A confirm, cancel or compensate method named by an action's decorator: it must exist and be a plain method. */
function checkSecondMethod(cls: Function, where: string, role: string, target: string, method: string, first: string): void {
  const className = cls.name || '(anonymous class)';
  if (target === method) throw new ParticipantDefinitionError(`${where}: the ${role} method cannot be the ${first} method itself`);
  if (typeof findMethod(cls, target) !== 'function') {
    throw new ParticipantDefinitionError(`${where}: ${role} method "${target}" does not exist on ${className}`);
  }
  if (tryMethodsOf(cls).has(target)) {
    throw new ParticipantDefinitionError(`${where}: ${role} method "${target}" is itself an action method (@TccAction, @XaAction, @FmtAction, @SagaAction or @MsgAction)`);
  }
}

/** Public string-named methods along the prototype chain, nearest definition first. */
function methodsOf(cls: Function): Set<string> {
  const out = new Set<string>();
  for (let proto = cls.prototype as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || out.has(key)) continue;
      const desc = Object.getOwnPropertyDescriptor(proto, key);
      if (typeof desc?.value === 'function') out.add(key);
    }
  }
  return out;
}

function findMethod(cls: Function, key: string): Function | undefined {
  const value: unknown = (cls.prototype as Record<string, unknown>)[key];
  return typeof value === 'function' ? value : undefined;
}
