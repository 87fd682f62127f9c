import type { ErrorBody } from './types.js';

/** The protocol's error shape `{ error: { code, message, details? } }`, as the coordinator and the SDK answer it. */
export function errorBody(code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: { code, message, ...(details ? { details } : {}) } };
}

/** Any thrown value as an Error: the one place `unknown` is normalised (STYLE.md). */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)));
}
