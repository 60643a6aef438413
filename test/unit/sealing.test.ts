// Sealed secrets (DATA_KEYS): AES-256-GCM, keys that rotate, nothing readable in storage.

import test from 'ava';
import { Sealer } from '../../src/storage/sealing.ts';

const OLD = 'old-data-key-0123456789abcdef0123456789';
const NEW = 'new-data-key-0123456789abcdef0123456789';

test('a sealed value opens to the text for its purpose, and shows nothing of it', (t) => {
  const sealer = new Sealer([OLD]);
  const sealed = sealer.seal('refresh@@token', 'isv:wx1');
  t.false(sealed.includes('refresh'));
  t.regex(sealed, /^v1\.[\w-]{8}\.[\w-]+\.[\w-]+\.[\w-]+$/);
  t.is(sealer.open(sealed, 'isv:wx1'), 'refresh@@token');
  t.not(sealer.seal('refresh@@token', 'isv:wx1'), sealed, 'a fresh IV each time');
  t.is(sealer.open(sealed, 'isv:wx2'), undefined, 'bound to its purpose: another account\'s record cannot stand in');
});

test('rotation: the first key seals, every key opens; a retired key\'s values are gone, not garbage', (t) => {
  const before = new Sealer([OLD]).seal('token-a', 'p');
  const rotated = new Sealer([NEW, OLD]);
  t.is(rotated.open(before, 'p'), 'token-a');
  const after = rotated.seal('token-b', 'p');
  t.is(new Sealer([NEW]).open(after, 'p'), 'token-b');
  t.is(new Sealer([NEW]).open(before, 'p'), undefined);
});

test('tampered, truncated or plaintext values open to nothing', (t) => {
  const sealer = new Sealer([OLD]);
  const sealed = sealer.seal('token', 'p');
  const parts = sealed.split('.');
  const flipped = [...parts.slice(0, 3), `${parts[3]?.startsWith('A') ? 'B' : 'A'}${parts[3]?.slice(1)}`, parts[4]].join('.');
  for (const value of [flipped, parts.slice(0, 4).join('.'), 'token', '', undefined, 42, 'v1....']) t.is(sealer.open(value, 'p'), undefined, String(value));
});
