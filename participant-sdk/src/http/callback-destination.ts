/** Where a callback arrived, as the socket saw it: what signatures are checked against (v2). */
export interface ArrivedAt {
  /** The request's path and query, as received. */
  path: string;
  /** The address and port it arrived on (`socket.localAddress`, `socket.localPort`). */
  localAddress: string | undefined;
  localPort: number | undefined;
  tls: boolean;
}

/**
 * The URL a callback was sent to, from this participant's point of view: `publicUrl`
 * (the URL the coordinator calls it at, through any proxy) followed by the request's path,
 * or, without one, the address and port the request arrived on. Never the Host header: a
 * replayer chooses that, not where the connection lands.
 */
export function callbackUrlOf(arrived: ArrivedAt, publicUrl: string | undefined): string {
  if (publicUrl !== undefined) return `${publicUrl.replace(/\/+$/, '')}${arrived.path}`;
  const address = (arrived.localAddress ?? '127.0.0.1').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const host = address.includes(':') ? `[${address}]` : address;
  return `${arrived.tls ? 'https' : 'http'}://${host}:${arrived.localPort ?? (arrived.tls ? 443 : 80)}${arrived.path}`;
}
