import { DEFAULT_CALLBACK_PREFIX, type Json, type RegisterBranchRequest } from '@dtx/protocol';
import type { HandlerKeys, PayloadOf, SagaHandlerKeys, SagaPayloadOf, TryResultOf } from '../decorators/context.js';

/**
 * Where an action is served and, as phantom types, what its try takes and returns.
 * Build one with `participantRef<Wallet>(url, 'wallet').action('debit')` so both types
 * come from the participant's class.
 */
export interface ActionRef<Payload = unknown, Result = unknown> {
  readonly action: string;
  readonly tryUrl: string;
  readonly confirmUrl: string;
  readonly cancelUrl: string;
  /** Type-level only; never set. */
  readonly __types?: { payload: Payload; result: Result };
}

/**
 * Where a saga action (v1.2) is served and, as phantom types, what it takes and returns.
 * Build one with `participantRef<Wallet>(url, 'wallet').sagaAction('debit')`.
 */
export interface SagaActionRef<Payload = unknown, Result = unknown> {
  readonly action: string;
  readonly actionUrl: string;
  readonly compensateUrl: string;
  /** Type-level only; never set. */
  readonly __types?: { payload: Payload; result: Result };
}

/** Where a message step's action (v1.2) is served, and what it takes and returns. Build one with `participantRef<Mailer>(url, 'mailer').msgAction('welcome')`. */
export type MsgActionRef<Payload = unknown, Result = unknown> = Omit<SagaActionRef<Payload, Result>, 'compensateUrl'>;

export interface RefOptions {
  /** The plugin's route prefix at that service. @default '/dtx' */
  prefix?: string;
}

/** An action by name, with payload and result types given by hand. */
export function actionRef<Payload = Json, Result = Json>(baseUrl: string, action: string, opts: RefOptions = {}): ActionRef<Payload, Result> {
  const root = actionRoot(baseUrl, action, opts);
  return { action, tryUrl: `${root}/try`, confirmUrl: `${root}/confirm`, cancelUrl: `${root}/cancel` };
}

/** A saga action by name, with payload and result types given by hand. */
export function sagaActionRef<Payload = Json, Result = Json>(baseUrl: string, action: string, opts: RefOptions = {}): SagaActionRef<Payload, Result> {
  const root = actionRoot(baseUrl, action, opts);
  return { action, actionUrl: `${root}/action`, compensateUrl: `${root}/compensate` };
}

/** `<baseUrl><prefix>/<action>`, to which each route adds its phase (PROTOCOL.md). */
function actionRoot(baseUrl: string, action: string, opts: RefOptions): string {
  return `${baseUrl.replace(/\/+$/, '')}${opts.prefix ?? DEFAULT_CALLBACK_PREFIX}/${action}`;
}

/**
 * The actions of participant class `T` served at `baseUrl` as participant `name`.
 * `.action('debit')` is action `<name>.debit`; pass `actionName` when `@TccAction({ name })`
 * renamed it. `.sagaAction('debit')` is the same for a `@SagaAction` method.
 */
export function participantRef<T>(baseUrl: string, name: string, opts: RefOptions = {}) {
  return {
    action<K extends HandlerKeys<T>>(method: K, actionName: string = method): ActionRef<PayloadOf<T, K>, TryResultOf<T, K>> {
      return actionRef(baseUrl, `${name}.${actionName}`, opts);
    },
    /** A `@SagaAction` method's action; `actionName` as for `action`. */
    sagaAction<K extends SagaHandlerKeys<T>>(method: K, actionName: string = method): SagaActionRef<SagaPayloadOf<T, K>, TryResultOf<T, K>> {
      return sagaActionRef(baseUrl, `${name}.${actionName}`, opts);
    },
    /** An `@MsgAction` method's action; `actionName` as for `action`. */
    msgAction<K extends SagaHandlerKeys<T>>(method: K, actionName: string = method): MsgActionRef<SagaPayloadOf<T, K>, TryResultOf<T, K>> {
      const { action, actionUrl } = sagaActionRef(baseUrl, `${name}.${actionName}`, opts);
      return { action, actionUrl };
    },
  };
}

/** A branch of a driven-mode begin (`drive: true`) for `ref`. */
export function branchOf<P, R>(ref: ActionRef<P, R>, branchId: string, payload: P, opts: { timeoutMs?: number } = {}): RegisterBranchRequest {
  const branch: RegisterBranchRequest = {
    branchId,
    action: ref.action,
    tryUrl: ref.tryUrl,
    confirmUrl: ref.confirmUrl,
    cancelUrl: ref.cancelUrl,
    payload: payload as Json,
  };
  if (opts.timeoutMs !== undefined) branch.timeoutMs = opts.timeoutMs;
  return branch;
}
