// The broker's cookie signatures (http/cookie-signer.ts) against keygrip's, which Koa uses
// by default: the same signature for the same key and data, so that cookies signed before
// (by keygrip, or by the other key of a rotation) verify, and nothing else does.

import test from 'ava';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { CookieSigner } from '../../src/http/cookie-signer.ts';

// keygrip is what Koa's cookies use when given an array of keys: the reference.
const Keygrip = createRequire(import.meta.url)('keygrip') as new (keys: string[]) => { sign(data: string): string; index(data: string, digest: string): number };

test('the same signatures as keygrip, for any key and data; the key that made one is found', (t) => {
  t.notThrows(() => fc.assert(fc.property(fc.array(fc.string({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 3 }), fc.string({ maxLength: 300 }), (keys, data) => {
    const ours = new CookieSigner(keys);
    const theirs = new Keygrip(keys);
    const signature = ours.sign(data);
    if (signature !== theirs.sign(data)) return false;
    const last = keys.length - 1;
    const byLast = new Keygrip([keys[last]!]).sign(data);
    return ours.index(data, byLast) === theirs.index(data, byLast) && ours.verify(data, signature);
  })));
});

test('a signature of other data, another key, a truncated or empty one: not verified', (t) => {
  const signer = new CookieSigner(['k1', 'k2']);
  const signature = signer.sign('_session=abc');
  t.true(signer.verify('_session=abc', signature));
  t.is(signer.index('_session=abc', new CookieSigner(['k2']).sign('_session=abc')), 1, 'the older key still verifies');
  t.false(signer.verify('_session=abd', signature));
  t.false(signer.verify('_session=abc', new CookieSigner(['k3']).sign('_session=abc')));
  t.false(signer.verify('_session=abc', signature.slice(0, -1)));
  t.false(signer.verify('_session=abc', ''));
});
