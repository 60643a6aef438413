// The README's example API (examples/api-server.mjs), as an API developer would run it
// beside the broker: it takes the broker's JWT access tokens for itself (RFC 9068), plain
// and bound to a key (DPoP, RFC 9449), refuses the rest with the standard challenges
// (RFC 6750 3), and tells an app where to get a token (RFC 9728). openid-client is the app.

import test from 'ava';
import { randomUUID, createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { exportJWK, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { startBroker, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { freePort } from '../helpers/ports.ts';
import { CHILD_ENV, startProcess, stopProcess, type StartedProcess } from '../helpers/process.ts';

const secretOf = (id: string) => `${id}-secret-0123456789abcdef0123456789`;
/** Another of the company's APIs: its tokens are not the orders API's. */
const STOCK = 'https://api.example.com/stock';
let broker: RunningBroker;
let api: StartedProcess | undefined;
let resource: string;
let backend: oidc.Configuration;

test.before(async () => {
  resource = `http://127.0.0.1:${await freePort()}/orders`;
  broker = await startBroker({
    CLIENTS_FILE: writeClientsFile([
      { client_id: 'orders-api', client_secret: secretOf('orders-api'), client_name: 'Orders', grant_types: [], response_types: [], redirect_uris: [], resource_server: true, resource, resource_scopes: { 'orders:read': 'See your orders', 'orders:write': 'Place orders for you' } },
      { client_id: 'stock-api', client_secret: secretOf('stock-api'), grant_types: [], response_types: [], redirect_uris: [], resource_server: true, resource: STOCK, resource_scopes: { 'stock:read': 'See what is in stock' } },
      { client_id: 'backend', client_secret: secretOf('backend'), grant_types: ['client_credentials'], response_types: [], redirect_uris: [], resources: [resource, STOCK] },
    ]),
  });
  api = await startProcess(process.execPath, ['examples/api-server.mjs', broker.issuer, resource], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)), env: { ...CHILD_ENV }, what: 'examples/api-server.mjs', ready: (output) => output.includes('orders API'),
  });
  backend = await oidc.discovery(new URL(broker.issuer), 'backend', secretOf('backend'), undefined, { execute: [oidc.allowInsecureRequests] });
});
test.after.always(async () => {
  await Promise.all([api && stopProcess(api, 'examples/api-server.mjs'), broker?.stop()]);
});

const challenges = (answer: Response) => answer.headers.get('www-authenticate') ?? '';

test('without a token: 401 with both challenges, naming the metadata, which leads the app to the broker (RFC 9728)', async (t) => {
  const answer = await fetch(resource);
  t.is(answer.status, 401);
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenges(answer))?.[1];
  t.is(metadataUrl, resource.replace('/orders', '/.well-known/oauth-protected-resource/orders'), 'RFC 9728 3.1: the well-known path before the resource\'s path');
  t.regex(challenges(answer), /^Bearer resource_metadata="[^"]+", DPoP algs="[^"]+", resource_metadata=/);
  t.notRegex(challenges(answer), /error=/, 'RFC 6750 3.1: no error code when no token was sent');
  const metadata = await (await fetch(metadataUrl!)).json() as Record<string, unknown>;
  t.like(metadata, { resource, authorization_servers: [broker.issuer], scopes_supported: ['orders:read', 'orders:write'], bearer_methods_supported: ['header'] });
});

test('a Bearer token for the API with its scope is taken; a method needing another scope is insufficient_scope, naming it', async (t) => {
  const tokens = await oidc.clientCredentialsGrant(backend, { resource, scope: 'orders:read' });
  const read = await oidc.fetchProtectedResource(backend, tokens.access_token, new URL(resource), 'GET');
  t.is(read.status, 200);
  t.like(await read.json() as object, { sub: 'backend', client_id: 'backend' });
  const write = await fetch(resource, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.is(write.status, 403);
  t.regex(challenges(write), /^Bearer resource_metadata="[^"]+", error="insufficient_scope", error_description="[^"]+", scope="orders:write"/);
});

test('tokens that are not this API\'s are invalid_token: an opaque one, another API\'s, one altered, one cut short', async (t) => {
  const opaque = (await oidc.clientCredentialsGrant(backend, {})).access_token;
  const stock = (await oidc.clientCredentialsGrant(backend, { resource: STOCK, scope: 'stock:read' })).access_token;
  const jwt = (await oidc.clientCredentialsGrant(backend, { resource, scope: 'orders:read' })).access_token;
  const [header, payload, signature] = jwt.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const altered = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'orders:read orders:write' })).toString('base64url')}.${signature}`;
  for (const token of [opaque, stock, altered, jwt.slice(0, -2)]) {
    const answer = await fetch(resource, { headers: { authorization: `Bearer ${token}` } });
    t.is(answer.status, 401);
    t.regex(challenges(answer), /error="invalid_token"/);
  }
});

test('a DPoP-bound token is taken with a proof of its key, once; never as Bearer, nor with a proof for another request', async (t) => {
  const keys = await oidc.randomDPoPKeyPair('ES256');
  const DPoP = oidc.getDPoPHandle(backend, keys);
  const tokens = await oidc.clientCredentialsGrant(backend, { resource, scope: 'orders:read' }, { DPoP });
  const read = await oidc.fetchProtectedResource(backend, tokens.access_token, new URL(resource), 'GET', undefined, undefined, { DPoP });
  t.is(read.status, 200, 'openid-client\'s own proof');

  const asBearer = await fetch(resource, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.is(asBearer.status, 401);
  t.regex(challenges(asBearer), /error="invalid_token", error_description="this access token is bound to a key: send it with DPoP"/);

  const proof = (htm: string, htu: string, key = keys) => exportJWK(key.publicKey).then((jwk) => new SignJWT({
    htm, htu, jti: randomUUID(), ath: createHash('sha256').update(tokens.access_token).digest('base64url'),
  }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).setIssuedAt().sign(key.privateKey));
  const call = (dpop: string) => fetch(resource, { headers: { authorization: `DPoP ${tokens.access_token}`, dpop } });
  const once = await proof('GET', resource);
  t.is((await call(once)).status, 200);
  const replayed = await call(once);
  t.is(replayed.status, 401, 'a proof is good once (RFC 9449 11.1)');
  t.regex(challenges(replayed), /error="invalid_dpop_proof"/);
  t.regex(challenges(await call(await proof('POST', resource))), /error="invalid_dpop_proof", error_description="the DPoP proof is for another request"/);
  t.regex(challenges(await call(await proof('GET', `${resource}/elsewhere`))), /error="invalid_dpop_proof"/);
  const otherKey = await proof('GET', resource, await oidc.randomDPoPKeyPair('ES256'));
  t.regex(challenges(await call(otherKey)), /error="invalid_token", error_description="the access token is bound to another key"/);
  t.regex(challenges(await fetch(resource, { headers: { authorization: `DPoP ${tokens.access_token}` } })), /error="invalid_dpop_proof", error_description="a DPoP proof is required"/);
});
