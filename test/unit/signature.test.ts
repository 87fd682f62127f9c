import { callbackDestination, signBody, signCallback, verifySignature } from '@dtx/protocol';
import { createHmac } from 'node:crypto';
import { expect, test } from 'vitest';
import { callbackUrlOf } from '../../participant-sdk/src/http/callback-destination.js';

const body = JSON.stringify({ xid: 'x1', branchId: 'b', phase: 'confirm', payload: { n: 1 } });
const to = 'http://127.0.0.1:4001/dtx/wallet.debit/confirm';
const now = 1_700_000_000_000;
const hmac = (text: string) => createHmac('sha256', 's3cret').update(text).digest('hex');

test('the signature is t=<ms>,v1=<HMAC("<t>.<body>")>,v2=<HMAC("<t>.<destination>\\n<body>")>', () => {
  expect(signCallback('s3cret', to, body, now)).toBe(`t=${now},v1=${hmac(`${now}.${body}`)},v2=${hmac(`${now}.${to}\n${body}`)}`);
  expect(signBody('s3cret', body, now)).toBe(`t=${now},v1=${hmac(`${now}.${body}`)}`);
});

test('destinations are compared normalised: scheme and host case, default ports, no fragment or credentials', () => {
  expect(callbackDestination('HTTP://Wallet.Example:80/dtx/a/try?x=1#f')).toBe('http://wallet.example/dtx/a/try?x=1');
  expect(callbackDestination('https://u:p@w:443/dtx/a/try')).toBe('https://w/dtx/a/try');
  const signed = signCallback('s3cret', 'http://WALLET:80/dtx/a/try', body, now);
  expect(verifySignature('s3cret', signed, body, { destination: 'http://wallet/dtx/a/try', nowMs: now })).toEqual({ ok: true });
});

test('v2 is accepted only at the destination it was made for; v1 alone only where configured', () => {
  const good = signCallback('s3cret', to, body, now);
  const at = (destination: string, header = good, acceptV1 = false) => verifySignature('s3cret', header, body, { destination, acceptV1, nowMs: now + 1000 });
  expect(at(to)).toEqual({ ok: true });
  expect(at('http://127.0.0.1:4002/dtx/wallet.debit/confirm')).toEqual({ ok: false, reason: 'destination' });
  expect(at('http://127.0.0.1:4001/dtx/wallet.credit/confirm')).toEqual({ ok: false, reason: 'destination' });
  // accepting v1 does not let a bound signature through elsewhere
  expect(at('http://127.0.0.1:4002/dtx/wallet.debit/confirm', good, true)).toEqual({ ok: false, reason: 'destination' });
  // stripping v2 from a captured header leaves a v1 signature: refused unless configured
  const stripped = good.replace(/,v2=[0-9a-f]+$/, '');
  expect(at('http://127.0.0.1:4002/x', stripped)).toEqual({ ok: false, reason: 'unbound' });
  expect(at('http://127.0.0.1:4002/x', stripped, true)).toEqual({ ok: true });
});

test('verification refuses bad, stale, malformed and missing signatures', () => {
  const good = signCallback('s3cret', to, body, now);
  const check = (secret: string, header: string | undefined, text = body, at = now) => verifySignature(secret, header, text, { destination: to, nowMs: at });
  expect(check('other', good)).toEqual({ ok: false, reason: 'mismatch' });
  expect(check('s3cret', good, body.replace('1', '2'))).toEqual({ ok: false, reason: 'mismatch' });
  expect(check('s3cret', signBody('other', body, now))).toEqual({ ok: false, reason: 'mismatch' });
  expect(check('s3cret', good, body, now + 5 * 60_000 + 1)).toEqual({ ok: false, reason: 'stale' });
  expect(check('s3cret', 't=abc,v1=00')).toEqual({ ok: false, reason: 'malformed' });
  expect(check('s3cret', `t=${now},v2=zz`)).toEqual({ ok: false, reason: 'malformed' });
  expect(check('s3cret', undefined)).toEqual({ ok: false, reason: 'missing' });
});

test("a participant's own URL: its publicUrl and the path, or the address the request arrived on", () => {
  const arrived = { path: '/dtx/a/try', localAddress: '::ffff:127.0.0.1', localPort: 4001, tls: false };
  expect(callbackUrlOf(arrived, undefined)).toBe('http://127.0.0.1:4001/dtx/a/try');
  expect(callbackUrlOf({ ...arrived, localAddress: '::1' }, undefined)).toBe('http://[::1]:4001/dtx/a/try');
  expect(callbackUrlOf({ ...arrived, tls: true }, undefined)).toBe('https://127.0.0.1:4001/dtx/a/try');
  expect(callbackUrlOf(arrived, 'https://gw.example/wallet/')).toBe('https://gw.example/wallet/dtx/a/try');
});
