import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { CallbackBodyTooLargeError, UnsupportedMediaTypeError } from './request-errors.js';

/** fastify's default body limit, which the fastify plugin has always had. @default 1 MiB */
export const DEFAULT_BODY_LIMIT = 1_048_576;

/**
 * The raw JSON bytes of a callback, read as the fastify plugin reads them, so that every
 * adapter refuses the same requests with the same answers: JSON is kept raw (the signature
 * covers the exact bytes); a text body is read but is no JSON body; any other type, or a
 * body with no type, is 415; past `limit` bytes, 413 (from Content-Length, before reading).
 */
export async function readCallbackBody(stream: Readable, headers: IncomingHttpHeaders, limit: number): Promise<Buffer | undefined> {
  const type = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  const declared = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  if (type === undefined) {
    if (declared === 0 || (declared === undefined && headers['transfer-encoding'] === undefined)) return undefined;
    throw refused(stream, new UnsupportedMediaTypeError());
  }
  if (type !== 'application/json' && type !== 'text/plain') throw refused(stream, new UnsupportedMediaTypeError());
  if (declared !== undefined && declared > limit) throw refused(stream, new CallbackBodyTooLargeError());
  const raw = await readAtMost(stream, limit);
  return type === 'application/json' ? raw : undefined;
}

/** Collects the stream's bytes; past `limit` it stops keeping them but drains the rest, so the connection can still carry the answer. */
function readAtMost(stream: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    stream.once('error', reject);
    stream.once('end', () => (size > limit ? reject(new CallbackBodyTooLargeError()) : resolve(Buffer.concat(chunks))));
  });
}

/** A body refused unread is drained, so the answer reaches the caller instead of a reset connection. */
function refused(stream: Readable, err: Error): Error {
  stream.resume();
  return err;
}
