import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * How much of an oversized body the coordinator reads and drops before its 413: 16 MiB.
 *
 * A client writes its whole body before it reads the answer. If the server answered and closed
 * at once (fastify's default for a body over the limit), the bytes still in flight would make
 * the kernel reset the connection, and the client would see EPIPE or ECONNRESET instead of its
 * 413 whenever its body is larger than the sockets' buffers. Reading the rest first lets the
 * answer arrive whole and the keep-alive connection serve the next request. Reading is work for
 * nothing, so it is bounded: 16 MiB covers a payload that grew by mistake to many times the
 * 1 MiB limit, and costs milliseconds on a LAN; a body declared larger than that is answered
 * at once with the connection closed, and one that streams past it without a length has its
 * connection closed there. Such a client may see a reset. The request timeout bounds the time
 * a slow client can take the same way.
 */
export const DISCARD_BOUND_BYTES = 16 * 1024 * 1024;

/**
 * For a body over the limit, before its 413: reads and drops the rest of the body, up to the
 * bound, and lets the connection stay open when it got to the end. Never rejects.
 */
export function discardOversizedBody(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const raw = request.raw;
  if (Number(request.headers['content-length']) > DISCARD_BOUND_BYTES) return Promise.resolve();
  return new Promise<void>((resolve) => {
    let read = 0;
    const finish = (whole: boolean) => {
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('close', onClose);
      // fastify marked the connection to close: nothing of this request is left on it now
      if (whole) reply.removeHeader('connection');
      resolve();
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > DISCARD_BOUND_BYTES) finish(false);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(false);
    if (raw.readableEnded) return finish(true);
    raw.on('data', onData);
    raw.on('end', onEnd);
    raw.on('close', onClose);
    raw.resume();
  });
}
