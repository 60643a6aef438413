// DPoP proofs as the broker's own resources check them (RFC 9449 4.3, 7.1): the proofs
// openid-client would never make, one rule each.

import test from 'ava';
import { hash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWTHeaderParameters } from 'jose';
import { DpopProofError, verifyProof } from '../../src/oidc/dpop.ts';

const URL_ = 'https://login.example.com/account/phone';
const TOKEN = 'an-access-token-0123456789';
const NOW = 1_800_000_000;
const request = { method: 'POST', url: URL_, accessToken: TOKEN };

async function proof(alg: 'ES256' | 'EdDSA' | 'RS256', change: { header?: Partial<JWTHeaderParameters>; claims?: Record<string, unknown> } = {}) {
  const keys = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(keys.publicKey);
  const jwt = await new SignJWT({ jti: randomUUID(), htm: 'POST', htu: URL_, iat: NOW, ath: hash('sha256', TOKEN, 'base64url'), ...change.claims })
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk, ...change.header })
    .sign(keys.privateKey);
  return { jwt, thumbprint: await calculateJwkThumbprint(jwk), privateJwk: await exportJWK(keys.privateKey) };
}

test('a proof by ES256 or Ed25519 for the request gives its key\'s thumbprint; htu is compared without query and fragment', async (t) => {
  for (const alg of ['ES256', 'EdDSA'] as const) {
    const made = await proof(alg);
    t.is((await verifyProof(made.jwt, request, NOW)).thumbprint, made.thumbprint, alg);
  }
  const withQuery = await proof('ES256', { claims: { htu: `${URL_}?x=1#y` } });
  t.is((await verifyProof(withQuery.jwt, request, NOW + 299)).thumbprint, withQuery.thumbprint);
});

test('refused: another algorithm (RS256 is not offered), another typ, a private key in the header, no jti, a stale or future iat, a nonce, no proof', async (t) => {
  const leaked = await proof('ES256');
  const cases = {
    RS256: (await proof('RS256')).jwt,
    'typ JWT': (await proof('ES256', { header: { typ: 'JWT' } })).jwt,
    'private jwk': (await proof('ES256', { header: { jwk: leaked.privateJwk } })).jwt,
    'no jti': (await proof('ES256', { claims: { jti: undefined } })).jwt,
    'iat 301 s old': (await proof('ES256', { claims: { iat: NOW - 301 } })).jwt,
    'iat 301 s ahead': (await proof('ES256', { claims: { iat: NOW + 301 } })).jwt,
    nonce: (await proof('ES256', { claims: { nonce: 'n' } })).jwt,
    'htu of another host': (await proof('ES256', { claims: { htu: 'https://evil.example/account/phone' } })).jwt,
    'no htu': (await proof('ES256', { claims: { htu: undefined } })).jwt,
    'no ath': (await proof('ES256', { claims: { ath: undefined } })).jwt,
    'not a JWT': 'x.y.z',
    none: '',
  };
  for (const [name, jwt] of Object.entries(cases)) {
    await t.throwsAsync(verifyProof(jwt, request, NOW), { instanceOf: DpopProofError }, name);
  }
});
