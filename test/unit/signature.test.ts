import { signBody, verifySignature } from '@dtx/protocol';
import { createHmac } from 'node:crypto';
import { expect, test } from 'vitest';

const body = JSON.stringify({ xid: 'x1', branchId: 'b', phase: 'confirm', payload: { n: 1 } });

test('the signature is t=<ms>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>', () => {
  const header = signBody('s3cret', body, 1_700_000_000_000);
  const expected = createHmac('sha256', 's3cret').update(`1700000000000.${body}`).digest('hex');
  expect(header).toBe(`t=1700000000000,v1=${expected}`);
});

test('verification accepts a fresh good signature and refuses bad, stale, malformed and missing ones', () => {
  const now = 1_700_000_000_000;
  const good = signBody('s3cret', body, now);
  expect(verifySignature('s3cret', good, body, now + 1000)).toEqual({ ok: true });
  expect(verifySignature('other', good, body, now)).toEqual({ ok: false, reason: 'mismatch' });
  expect(verifySignature('s3cret', good, body.replace('1', '2'), now)).toEqual({ ok: false, reason: 'mismatch' });
  expect(verifySignature('s3cret', good, body, now + 5 * 60_000 + 1)).toEqual({ ok: false, reason: 'stale' });
  expect(verifySignature('s3cret', 't=abc,v1=00', body, now)).toEqual({ ok: false, reason: 'malformed' });
  expect(verifySignature('s3cret', undefined, body, now)).toEqual({ ok: false, reason: 'missing' });
});
