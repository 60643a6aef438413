// DPoP (RFC 9449): a client that proves a key at the token endpoint gets tokens bound to it,
// at every grant (a web login's code, a mini program's token exchange, client credentials),
// and they are good only with proofs by that key: at userinfo, and at the broker's own
// resources (a mini program's phone number, the admin API), which never take one as a
// Bearer token (7.2). openid-client plays every client with its DPoP handle (certified RP
// code); the proofs it would never make (another key, URL, method, token; stale; replayed)
// are made here with jose. The simulator plays WeChat.

import test from 'ava';
import fc from 'fast-check';
import { hash, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { allowConsent, callbackOf, cookieJar, deliverCallbackToPage, follow } from '../helpers/fetch-login.ts';
import { exchange, miniProgramClient, tapPhoneButton, TOKEN_EXCHANGE, wxLogin, JS_CODE } from '../helpers/mini-program.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { addCallbackHost, issueCode, simApp, startTestSimulator } from '../helpers/simulator.ts';
import { tempDir } from '../helpers/temp.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';

const web = simApp('open');
const mini = simApp('miniprogram');
const OPS_SECRET = 'ops-secret-0123456789abcdef0123456789ab';
const API_SECRET = 'api-secret-0123456789abcdef0123456789';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
let simulator: RunningSimulator;
let rpServer: RpServer;
let broker: RunningBroker;

test.before(async () => {
  [simulator, rpServer] = await Promise.all([startTestSimulator([web, mini]), startRpServer()]);
  const appsFile = join(tempDir('broker-dpop'), 'apps.json');
  writeFileSync(appsFile, JSON.stringify([
    { id: 'web', kind: 'open', appid: web.appid, secret_env: 'WEB_SECRET' },
    { id: 'mini', kind: 'miniprogram', appid: mini.appid, secret_env: 'MINI_SECRET' },
  ]));
  const exchangeClient = (id: string, extra: Record<string, unknown> = {}) => ({
    client_id: id, token_endpoint_auth_method: 'none', grant_types: [TOKEN_EXCHANGE, 'refresh_token'], response_types: [], wechat_apps: ['mini'],
    scope: 'openid phone offline_access', first_party: true, ...extra,
  });
  broker = await startBroker({
    CLIENTS_FILE: writeClientsFile([
      ...testClients(rpServer.origin).map((client) => (client.client_id === 'spa' ? { ...client, wechat_apps: ['web'], scope: 'openid profile offline_access' } : client)),
      exchangeClient('mini'), exchangeClient('mini-bound', { dpop_bound_access_tokens: true }),
      { client_id: 'ops', client_secret: OPS_SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'accounts:read' },
    ]),
    WECHAT_APPS_FILE: appsFile, WEB_SECRET: web.secret, MINI_SECRET: mini.secret, WECHAT_QR_MODE: 'redirect', METRICS_TOKEN,
    WECHAT_CONNECT_URL: simulator.url, WECHAT_API_URL: simulator.url, WECHAT_LOGIN_JS_URL: simulator.loginJsUrl,
  });
  await addCallbackHost(simulator.url, new URL(broker.issuer).host);
});
test.after.always(async () => {
  await Promise.all([broker?.stop(), simulator?.close(), rpServer?.close()]);
});

/** RFC 7662 introspection by the test clients' resource server. */
async function introspect(token: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${broker.issuer}/token/introspection`, {
    method: 'POST', headers: { authorization: `Basic ${Buffer.from(`api:${API_SECRET}`).toString('base64')}` }, body: new URLSearchParams({ token }),
  });
  return await response.json() as Record<string, unknown>;
}

const thumbprintOf = async (keys: CryptoKeyPair) => calculateJwkThumbprint(await exportJWK(keys.publicKey));

/** A proof by `keys` for `method` `url` with `token`, as RFC 9449 4.2 writes one; `claims` change it. */
async function proof(keys: CryptoKeyPair, method: string, url: string, token: string, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ jti: randomUUID(), htm: method, htu: url, iat: Math.floor(Date.now() / 1000), ath: hash('sha256', token, 'base64url'), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })
    .sign(keys.privateKey);
}

/** A request to the broker with `authorization` and, when given, a DPoP proof. */
async function call(method: string, path: string, authorization: string, dpop?: string, body?: string) {
  const response = await fetch(`${broker.issuer}${path}`, {
    method, body, headers: { authorization, ...(dpop ? { dpop } : {}), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
  });
  return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '', body: await response.json() as Record<string, unknown> };
}

/** `user`'s QR login (by plain HTTP requests), allowing on the consent page `prompt=consent` brings: where the browser lands. */
async function qrLogin(authorizeUrl: string, user: string): Promise<string> {
  const target = { issuer: broker.issuer, direct: broker.origin };
  const jar = cookieJar();
  const wechat = new URL((await follow(authorizeUrl, jar, target)).url);
  const at = await deliverCallbackToPage(callbackOf(wechat, await issueCode(simulator.url, web.appid, user, 'snsapi_login')), jar, target);
  return at.url.startsWith(broker.issuer) ? allowConsent(at, jar, target) : at.url;
}

test.serial('a web login with a key: tokens bound to it, good at userinfo only with its proofs; the public client\'s refresh token too', async (t) => {
  const config = await oidc.discovery(new URL(broker.issuer), 'spa', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  t.deepEqual(config.serverMetadata().dpop_signing_alg_values_supported, ['ES256', 'Ed25519', 'EdDSA']);
  const keys = await oidc.randomDPoPKeyPair();
  const DPoP = oidc.getDPoPHandle(config, keys);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: rpServer.callback, scope: 'openid profile offline_access', prompt: 'consent', state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const landed = await qrLogin(url.href, 'alice');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed), { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP });
  t.is(tokens.token_type, 'dpop');
  const sub = tokens.claims()!.sub;
  t.is((await oidc.fetchUserInfo(config, tokens.access_token, sub, { DPoP })).sub, sub);
  t.like(await call('GET', '/me', `Bearer ${tokens.access_token}`), { status: 401, body: { error: 'invalid_token' } }, 'never as a Bearer token');
  t.like(await introspect(tokens.access_token), { active: true, token_type: 'DPoP', cnf: { jkt: await thumbprintOf(keys) } });
  const otherKey = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair());
  const stolen = await t.throwsAsync<oidc.ResponseBodyError>(oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: otherKey }));
  t.is(stolen?.error, 'invalid_grant', 'RFC 9449 5: a public client\'s refresh token is bound to its key');
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
  t.is(refreshed.token_type, 'dpop', 'with its own key it refreshes, bound again');
  const metrics = await (await fetch(`${broker.issuer}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  t.regex(metrics, /^broker_tokens_issued_total\{grant_type="refresh_token",token_type="dpop"\} 1$/m, 'the operator sees bound tokens apart');
  for (const endpoint of ['/token', '/me']) {
    const preflight = await fetch(`${broker.issuer}${endpoint}`, {
      method: 'OPTIONS', headers: { origin: rpServer.origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, dpop' },
    });
    t.regex(String(preflight.headers.get('access-control-allow-headers')), /\bdpop\b/i, `a single-page app may send its proof to ${endpoint}`);
  }
});

test.serial('dpop_jkt (RFC 9449 10): a code asked for with a key\'s thumbprint is redeemed only with that key', async (t) => {
  const config = await oidc.discovery(new URL(broker.issuer), 'spa', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair());
  const codeFor = async () => {
    const checks = { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: oidc.randomState() };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: rpServer.callback, scope: 'openid', state: checks.expectedState, dpop_jkt: await DPoP.calculateThumbprint(),
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.pkceCodeVerifier), code_challenge_method: 'S256',
    });
    return { landed: new URL(await qrLogin(url.href, 'bob')), checks };
  };
  const mine = await codeFor();
  t.is((await oidc.authorizationCodeGrant(config, mine.landed, mine.checks, undefined, { DPoP })).token_type, 'dpop');
  const taken = await codeFor();
  const otherKey = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair());
  const stolen = await t.throwsAsync<oidc.ResponseBodyError>(oidc.authorizationCodeGrant(config, taken.landed, taken.checks, undefined, { DPoP: otherKey }));
  t.is(stolen?.error, 'invalid_grant', 'another key');
  const third = await codeFor();
  const unbound = await t.throwsAsync<oidc.ResponseBodyError>(oidc.authorizationCodeGrant(config, third.landed, third.checks));
  t.is(unbound?.error, 'invalid_grant', 'no proof at all');
});

test.serial('a mini program\'s token exchange with a key: bound tokens, its refresh token too; its phone number only with proofs by that key', async (t) => {
  const client = await miniProgramClient(broker.issuer, 'mini');
  const keys = await oidc.randomDPoPKeyPair();
  const DPoP = oidc.getDPoPHandle(client, keys);
  const tokens = await oidc.genericGrantRequest(client, TOKEN_EXCHANGE, {
    subject_token: await wxLogin(simulator.url, mini.appid, 'bob'), subject_token_type: JS_CODE, scope: 'openid phone offline_access',
  }, { DPoP });
  t.is(tokens.token_type, 'dpop', 'RFC 9449 5: bound to the proof\'s key');
  t.like(await introspect(tokens.access_token), { active: true, token_type: 'DPoP', cnf: { jkt: await thumbprintOf(keys) } });
  const phone = `${broker.issuer}/account/phone`;
  const asBearer = await call('POST', '/account/phone', `Bearer ${tokens.access_token}`, undefined, `code=${await tapPhoneButton(simulator.url, mini.appid, 'bob')}`);
  t.like(asBearer, { status: 401, body: { error: 'invalid_token' } }, 'RFC 9449 7.2: never as a Bearer token');
  t.regex(asBearer.challenge, /^DPoP realm="phone", error="invalid_token", algs="ES256 Ed25519 EdDSA"$/);
  const body = new URLSearchParams({ code: await tapPhoneButton(simulator.url, mini.appid, 'bob') });
  const stored = await oidc.fetchProtectedResource(client, tokens.access_token, new URL(phone), 'POST', body, new Headers(), { DPoP });
  t.is(stored.status, 200);
  t.like(await stored.json(), { phone_number_verified: true });
  const otherKey = oidc.getDPoPHandle(client, await oidc.randomDPoPKeyPair());
  const stolen = await t.throwsAsync<oidc.ResponseBodyError>(oidc.refreshTokenGrant(client, tokens.refresh_token!, undefined, { DPoP: otherKey }));
  t.is(stolen?.error, 'invalid_grant', 'RFC 9449 5: a public client\'s refresh token is bound to its key');
  t.is((await oidc.refreshTokenGrant(client, tokens.refresh_token!, undefined, { DPoP })).token_type, 'dpop');
});

test.serial('a client registered with dpop_bound_access_tokens gets no token without a proof, nor with a bad one, and its wx.login() code is not spent', async (t) => {
  const client = await miniProgramClient(broker.issuer, 'mini-bound');
  const code = await wxLogin(simulator.url, mini.appid, 'chen');
  const without = await t.throwsAsync<oidc.ResponseBodyError>(exchange(client, code, 'openid'));
  t.is(without?.error, 'invalid_grant');
  const keys = await oidc.randomDPoPKeyPair();
  const badProof = await proof(keys, 'POST', `${broker.issuer}/me`, 'unused');
  const response = await fetch(`${broker.issuer}/token`, {
    method: 'POST', headers: { dpop: badProof }, body: new URLSearchParams({ grant_type: TOKEN_EXCHANGE, client_id: 'mini-bound', subject_token: code, subject_token_type: JS_CODE, scope: 'openid' }),
  });
  t.like({ status: response.status, ...await response.json() as object }, { status: 400, error: 'invalid_dpop_proof' }, 'a proof for another URL');
  const tokens = await oidc.genericGrantRequest(client, TOKEN_EXCHANGE, { subject_token: code, subject_token_type: JS_CODE, scope: 'openid' }, { DPoP: oidc.getDPoPHandle(client, keys) });
  t.is(tokens.token_type, 'dpop', 'the same code, now with a proof');
});

test.serial('the admin API: a client-credentials token bound to the tool\'s key, only with its fresh proofs for the request; every other way refused with its challenge', async (t) => {
  const ops = await oidc.discovery(new URL(broker.issuer), 'ops', OPS_SECRET, undefined, { execute: [oidc.allowInsecureRequests] });
  const keys = await oidc.randomDPoPKeyPair();
  const token = (await oidc.clientCredentialsGrant(ops, { scope: 'accounts:read' }, { DPoP: oidc.getDPoPHandle(ops, keys) })).access_token;
  const path = `/admin/accounts/${randomUUID()}`;
  const url = `${broker.issuer}${path}`;
  const answered = await oidc.fetchProtectedResource(ops, token, new URL(url), 'GET', undefined, new Headers(), { DPoP: oidc.getDPoPHandle(ops, keys) });
  t.is(answered.status, 404, 'let in: no such account');
  const refusals = {
    'as a Bearer token': await call('GET', path, `Bearer ${token}`),
    'without a proof': await call('GET', path, `DPoP ${token}`),
    'by another key': await call('GET', path, `DPoP ${token}`, await proof(await oidc.randomDPoPKeyPair(), 'GET', url, token)),
    'for another URL': await call('GET', path, `DPoP ${token}`, await proof(keys, 'GET', `${broker.issuer}/admin/accounts`, token)),
    'for another method': await call('GET', path, `DPoP ${token}`, await proof(keys, 'DELETE', url, token)),
    'for another token': await call('GET', path, `DPoP ${token}`, await proof(keys, 'GET', url, `${token}x`)),
    'ten minutes old': await call('GET', path, `DPoP ${token}`, await proof(keys, 'GET', url, token, { iat: Math.floor(Date.now() / 1000) - 600 })),
    'with a nonce the broker never gave': await call('GET', path, `DPoP ${token}`, await proof(keys, 'GET', url, token, { nonce: 'n' })),
  };
  t.like(refusals, {
    'as a Bearer token': { status: 401, body: { error: 'invalid_token' } },
    'without a proof': { status: 401, body: { error: 'invalid_dpop_proof' } },
    'by another key': { status: 401, body: { error: 'invalid_token' } },
    'for another URL': { status: 401, body: { error: 'invalid_dpop_proof' } },
    'for another method': { status: 401, body: { error: 'invalid_dpop_proof' } },
    'for another token': { status: 401, body: { error: 'invalid_dpop_proof' } },
    'ten minutes old': { status: 401, body: { error: 'invalid_dpop_proof' } },
    'with a nonce the broker never gave': { status: 401, body: { error: 'invalid_dpop_proof' } },
  });
  for (const [how, refusal] of Object.entries(refusals)) t.regex(refusal.challenge, /^DPoP realm="admin", error="\w+", algs="ES256 Ed25519 EdDSA"$/, how);
  const once = await proof(keys, 'GET', url, token);
  t.is((await call('GET', path, `DPoP ${token}`, once)).status, 404);
  t.like(await call('GET', path, `DPoP ${token}`, once), { status: 401, body: { error: 'invalid_dpop_proof' } }, 'a proof is good once');
  const unbound = (await oidc.clientCredentialsGrant(ops, { scope: 'accounts:read' })).access_token;
  t.like(await call('GET', path, `DPoP ${unbound}`, await proof(keys, 'GET', url, unbound)), { status: 401, body: { error: 'invalid_token' } }, 'an unbound token is a Bearer one');
  t.like(await call('GET', path, `Bearer ${unbound}`, await proof(keys, 'GET', url, unbound)), { status: 400, body: { error: 'invalid_request' } }, 'a proof comes with the DPoP scheme');
  t.is((await call('GET', path, `bearer ${unbound}`)).status, 404, 'schemes are case-insensitive (RFC 9110 11.1)');
  const none = await fetch(url);
  t.is(none.headers.get('www-authenticate'), 'Bearer realm="admin", DPoP realm="admin", algs="ES256 Ed25519 EdDSA"', 'RFC 9449 7.2: without a token, either scheme');
  t.true(await broker.logged((line) => line.msg === 'admin call refused' && line.reason === 'the proof was used before (jti)'), 'the operator hears why');
});

test.serial('any DPoP header with a bound token (garbage, JWTs of any header and claims, keys of any shape): a 401 that says why, never a 5xx', async (t) => {
  const ops = await oidc.discovery(new URL(broker.issuer), 'ops', OPS_SECRET, undefined, { execute: [oidc.allowInsecureRequests] });
  const keys = await oidc.randomDPoPKeyPair();
  const token = (await oidc.clientCredentialsGrant(ops, { scope: 'accounts:read' }, { DPoP: oidc.getDPoPHandle(ops, keys) })).access_token;
  const path = `/admin/accounts/${randomUUID()}`;
  const claim = fc.oneof(fc.jsonValue(), fc.constantFrom('GET', `${broker.issuer}${path}`, hash('sha256', token, 'base64url'), Math.floor(Date.now() / 1000)));
  const claims = fc.dictionary(fc.constantFrom('jti', 'htm', 'htu', 'iat', 'ath', 'nonce', 'exp'), claim);
  const header = fc.record({ typ: fc.oneof(fc.constant('dpop+jwt'), fc.string()), jwk: fc.oneof(fc.constant(undefined), fc.jsonValue()) }, { requiredKeys: [] });
  const signed = fc.tuple(header, claims).map(([extra, payload]) => async () => new SignJWT(payload as Record<string, unknown>)
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey), ...(extra as Record<string, unknown>) })
    .sign(keys.privateKey).catch(() => 'not.signable.claims'));
  const garbage = fc.oneof(fc.string(), fc.array(fc.base64String(), { minLength: 3, maxLength: 3 }).map((parts) => parts.join('.'))).map((text) => async () => text);
  await fc.assert(fc.asyncProperty(fc.oneof(signed, garbage), async (make) => {
    const answer = await call('GET', path, `DPoP ${token}`, (await make()).replace(/[\r\n\0]/g, ''));
    t.true(answer.status === 401 && ['invalid_dpop_proof', 'invalid_token'].includes(String(answer.body.error)), JSON.stringify(answer));
    return answer.status < 500;
  }), { numRuns: 150, seed: 20261206 });
});
