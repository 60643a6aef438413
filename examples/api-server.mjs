#!/usr/bin/env node
// One of the company's APIs, taking the access tokens the broker issues for it: a JWT
// (RFC 9068) checked with the broker's JWKS alone, plain (Bearer, RFC 6750) or bound to the
// app's key (DPoP, RFC 9449), and the API's metadata (RFC 9728) that tells an app where to
// get such a token. Copy it into your API; it needs only `jose`.
//
//   node examples/api-server.mjs <issuer> <resource>
//   node examples/api-server.mjs https://login.example.com https://api.example.com/orders
//
// <resource> is the API's resource indicator as CLIENTS_FILE declares it (README, "Your own
// APIs"), and the URL apps call: it listens on that URL's port (PORT overrides it, behind a
// proxy). GET <resource> needs the scope orders:read, POST <resource> orders:write.

import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { calculateJwkThumbprint, createRemoteJWKSet, EmbeddedJWK, jwtVerify } from 'jose';

const [issuer, resource] = process.argv.slice(2);
if (!issuer || !resource) {
  console.error('usage: node examples/api-server.mjs <issuer> <resource>');
  process.exit(2);
}
const api = new URL(resource);
/** The scope each method needs. */
const NEEDS = { GET: 'orders:read', POST: 'orders:write' };
/** RFC 9728 3.1: the well-known path goes between the host and the resource's path. */
const METADATA_PATH = `/.well-known/oauth-protected-resource${api.pathname === '/' ? '' : api.pathname}`;
const METADATA_URL = new URL(METADATA_PATH, api.origin).href;
/** How far a DPoP proof's `iat` may be from now (RFC 9449 11.1). */
const PROOF_WINDOW_S = 60;

// The broker's metadata (RFC 8414): its keys' address, and the algorithms DPoP proofs may use.
const discovered = await (await fetch(new URL('/.well-known/openid-configuration', issuer))).json();
const jwks = createRemoteJWKSet(new URL(discovered.jwks_uri));
const proofAlgs = discovered.dpop_signing_alg_values_supported ?? [];

/** RFC 9728 2: what an app needs to know to get a token for this API. */
const metadata = {
  resource,
  authorization_servers: [issuer],
  scopes_supported: Object.values(NEEDS),
  bearer_methods_supported: ['header'],
  dpop_signing_alg_values_supported: proofAlgs,
  resource_name: 'Orders',
};

class Refusal extends Error {
  constructor(status, error, description, extra = '') {
    super(description);
    Object.assign(this, { status, error, extra });
  }
}

/** RFC 9068 4: signed by the broker (its JWKS), `typ` at+jwt, its issuer, this API as the audience, not expired. */
async function accessToken(token) {
  try {
    const { payload } = await jwtVerify(token, jwks, { issuer, audience: resource, typ: 'at+jwt', algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] });
    return payload;
  } catch (error) {
    throw new Refusal(401, 'invalid_token', `the access token is not valid here (${error.code ?? 'unreadable'})`);
  }
}

const sha256 = (text) => createHash('sha256').update(text).digest('base64url');
/** Proofs seen within the window: each is good once (RFC 9449 11.1). */
const seenProofs = new Map();

/** RFC 9449 4.3 and 7.1: a proof signed by the key the token is bound to, for this request and this token, used once. */
async function checkProof(request, token, jkt) {
  const proof = request.headers.dpop;
  if (typeof proof !== 'string') throw new Refusal(401, 'invalid_dpop_proof', 'a DPoP proof is required');
  let verified;
  try {
    verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: proofAlgs, maxTokenAge: `${PROOF_WINDOW_S}s`, clockTolerance: PROOF_WINDOW_S });
  } catch (error) {
    throw new Refusal(401, 'invalid_dpop_proof', `the DPoP proof is not valid (${error.code ?? 'unreadable'})`);
  }
  const { payload, protectedHeader } = verified;
  const url = new URL(request.url, api.origin);
  const htu = `${url.origin}${url.pathname}`;
  const now = Date.now() / 1000;
  for (const [jti, at] of seenProofs) if (at < now - 2 * PROOF_WINDOW_S) seenProofs.delete(jti);
  if (payload.htm !== request.method || payload.htu !== htu) throw new Refusal(401, 'invalid_dpop_proof', 'the DPoP proof is for another request');
  if (payload.ath !== sha256(token)) throw new Refusal(401, 'invalid_dpop_proof', 'the DPoP proof is for another access token');
  if (await calculateJwkThumbprint(protectedHeader.jwk) !== jkt) throw new Refusal(401, 'invalid_token', 'the access token is bound to another key');
  if (typeof payload.jti !== 'string' || seenProofs.has(payload.jti)) throw new Refusal(401, 'invalid_dpop_proof', 'the DPoP proof was used before');
  seenProofs.set(payload.jti, now);
}

/** The token of `Authorization: Bearer …` or `Authorization: DPoP …` (RFC 6750 2.1, RFC 9449 7.1), checked; its claims. */
async function authorize(request) {
  const [scheme = '', token = '', extra] = (request.headers.authorization ?? '').split(' ');
  const dpop = /^dpop$/i.test(scheme);
  if (!dpop && !/^bearer$/i.test(scheme)) throw new Refusal(401);
  if (!token || extra !== undefined) throw new Refusal(401, 'invalid_request', 'one access token, in the Authorization header');
  const claims = await accessToken(token);
  const jkt = claims.cnf?.jkt;
  // RFC 9449 7.2: a token bound to a key is never taken as Bearer, nor an unbound one as DPoP.
  if (Boolean(jkt) !== dpop) throw new Refusal(401, 'invalid_token', jkt ? 'this access token is bound to a key: send it with DPoP' : 'this access token is not bound to a key: send it as Bearer');
  if (dpop) await checkProof(request, token, jkt);
  const needed = NEEDS[request.method];
  if (!String(claims.scope ?? '').split(' ').includes(needed)) throw new Refusal(403, 'insufficient_scope', `this needs the scope ${needed}`, `, scope="${needed}"`);
  return claims;
}

/** RFC 6750 3 and RFC 9449 7.1: both ways to send a token, the error if there is one, and where the metadata is (RFC 9728 5.1). */
function challenge(response, refusal) {
  const error = refusal.error ? `, error="${refusal.error}", error_description="${refusal.message}"${refusal.extra}` : '';
  response.setHeader('www-authenticate', [
    `Bearer resource_metadata="${METADATA_URL}"${error}`,
    `DPoP algs="${proofAlgs.join(' ')}", resource_metadata="${METADATA_URL}"${error}`,
  ]);
  send(response, refusal.status, { error: refusal.error ?? 'unauthorized', error_description: refusal.message || 'an access token is required' });
}

function send(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

const server = createServer(async (request, response) => {
  const path = new URL(request.url, api.origin).pathname;
  if (request.method === 'GET' && path === METADATA_PATH) return send(response, 200, metadata);
  if (path !== api.pathname) return send(response, 404, { error: 'not_found' });
  if (!NEEDS[request.method]) return send(response, 405, { error: 'method_not_allowed' });
  try {
    const claims = await authorize(request);
    // `sub` is the person (or, for a service's own token, the service); `client_id` the app calling.
    send(response, request.method === 'POST' ? 201 : 200, { sub: claims.sub, client_id: claims.client_id, orders: [] });
  } catch (error) {
    if (error instanceof Refusal) return challenge(response, error);
    console.error(error);
    send(response, 500, { error: 'server_error' });
  }
});
server.listen(Number(process.env.PORT ?? (api.port || (api.protocol === 'https:' ? 443 : 80))), () => {
  console.log(`orders API ${resource}: metadata at ${METADATA_URL}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.close(() => process.exit(0)));
