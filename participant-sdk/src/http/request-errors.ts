import { DtxSdkError } from '../errors.js';

/**
 * A callback body over the adapter's limit: 413. The code is the one the fastify plugin has
 * always answered (fastify's own), kept by every adapter so a caller reads one set of codes.
 */
export class CallbackBodyTooLargeError extends DtxSdkError {
  constructor() {
    super('FST_ERR_CTP_BODY_TOO_LARGE', 'Request body is too large');
  }
}

/** A callback sent as neither JSON nor text (or a body with no content type): 415, with fastify's code as above. */
export class UnsupportedMediaTypeError extends DtxSdkError {
  constructor() {
    super('FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Media Type');
  }
}
