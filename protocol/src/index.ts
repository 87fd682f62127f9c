export * from './ids.js';
export * from './types.js';
export * from './headers.js';
export * from './signature.js';
export * from './retry.js';
export * from './answer.js';
export * from './errors.js';
export * from './trace-context.js';
