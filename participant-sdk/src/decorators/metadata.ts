/**
 * What the decorators record. Standard decorators have no reflect-metadata, and
 * `context.metadata` needs `Symbol.metadata`, which Node 20 lacks; so the try method's
 * function and the class are keys of WeakMaps, read back when the class is described.
 */
export interface TryMethodSpec {
  /** Action name after the participant's dot. @default the method name */
  name?: string;
  /** The method that confirms this try. */
  confirm: string;
  /** The method that cancels this try. */
  cancel: string;
}

export interface RecordedTry extends TryMethodSpec {
  method: string;
}

export const tryMethods = new WeakMap<Function, RecordedTry>();
export const participantNames = new WeakMap<Function, string>();
