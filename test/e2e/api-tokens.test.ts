// Access tokens for the company's own APIs (RFC 8707 resource indicators, RFC 9068 JWT
// access tokens): an app names the API with `resource`, the person consents to what the
// API's scopes let the app do, and the access token is a JWT the API checks with the
// broker's JWKS alone, for that API and its scopes only. openid-client is the app; logins by
// plain HTTP requests, as a browser makes them.

import test from 'ava';
import { calculateJwkThumbprint, createRemoteJWKSet, decodeJwt, exportJWK, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { startBroker, TEST_API, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { allowConsent, callbackOf, cookieJar, deliverCallbackToPage, follow, qrLoginByFetch } from '../helpers/fetch-login.ts';
import { issueCode } from '../helpers/simulator.ts';
import { createRp, type Rp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';

const ORDERS = TEST_API;
const secretOf = (id: string) => `${id}-secret-0123456789abcdef0123456789`;

let rpServer: RpServer;
let broker: RunningBroker;
const target = () => ({ issuer: broker.issuer, direct: broker.origin });

test.before(async () => {
  rpServer = await startRpServer();
  // The test clients hold the API ('orders', named 订单服务, with its scopes), which first-party
  // and third-party list; and a service of the company's that calls the API for itself (no person).
  const clients = [
    ...testClients(rpServer.origin),
    { client_id: 'backend', client_secret: secretOf('backend'), grant_types: ['client_credentials'], response_types: [], redirect_uris: [], resources: [ORDERS] },
    // An app that takes its userinfo signed, and a resource server that takes introspection answers signed.
    { client_id: 'signed', client_secret: secretOf('signed'), redirect_uris: [rpServer.callback], first_party: true, userinfo_signed_response_alg: 'RS256' },
    { client_id: 'auditor', client_secret: secretOf('auditor'), grant_types: [], response_types: [], redirect_uris: [], resource_server: true, introspection_signed_response_alg: 'RS256' },
  ];
  broker = await startBroker({ CLIENTS_FILE: writeClientsFile(clients), WECHAT_QR_MODE: 'redirect' });
});
test.after.always(async () => {
  await Promise.all([broker?.stop(), rpServer?.close()]);
});

/** The API's own check of a token: the broker's JWKS, `typ` at+jwt, the issuer, itself as the audience (RFC 9068 4). */
async function apiVerifies(token: string) {
  const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(`${broker.issuer}/jwks`)), {
    issuer: broker.issuer, audience: ORDERS, typ: 'at+jwt',
  });
  return { payload, protectedHeader };
}

/** `user`'s QR login at `rp` with `params`, allowing the consent page if the broker shows one: the tokens. */
async function logIn(rp: Rp, params: Record<string, string>, user: string) {
  const { url, check } = await rp.start(params);
  const jar = cookieJar();
  const wechat = new URL((await follow(url, jar, target())).url);
  const at = await deliverCallbackToPage(callbackOf(wechat, await issueCode(broker.simulator, wechat.searchParams.get('appid')!, user, 'snsapi_login')), jar, target());
  const landed = at.url.startsWith(broker.issuer) ? await allowConsent(at, jar, target()) : at.url;
  return rp.finish(new URL(landed), check);
}

async function introspect(token: string): Promise<Record<string, unknown>> {
  const answer = await fetch(`${broker.issuer}/token/introspection`, {
    method: 'POST', body: new URLSearchParams({ token }),
    headers: { authorization: `Basic ${Buffer.from(`orders:${secretOf('orders')}`).toString('base64')}` },
  });
  return await answer.json() as Record<string, unknown>;
}

test.serial('an app that names the API gets a JWT access token for it: the API checks it with the JWKS alone; it is no key to userinfo', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const { url, check } = await rp.start({ scope: 'openid profile orders:read', resource: ORDERS });
  const { landed } = await qrLoginByFetch(url, target(), broker.simulator, 'alice');
  const tokens = await rp.finish(new URL(landed), check);
  const { payload, protectedHeader } = await apiVerifies(tokens.access_token);
  const sub = decodeJwt(tokens.id_token!).sub;
  t.is(protectedHeader.alg, 'RS256');
  t.like(payload, { sub, client_id: 'first-party', scope: 'orders:read', aud: ORDERS });
  t.truthy(payload.jti);
  t.is(tokens.token_type.toLowerCase(), 'bearer');
  t.is(tokens.scope, 'orders:read', 'the access token\'s scope (RFC 6749 5.1)');
  t.true(Number(payload.exp) - Number(payload.iat) <= 600, 'ten minutes at most: a JWT is not revoked');
  t.is((await introspect(tokens.access_token)).error, 'unsupported_token_type', 'checked where it is used, not here');
  const userinfo = await fetch(`${broker.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.is(userinfo.status, 401, 'a token for the API is not one for userinfo');

  const refreshable = await logIn(rp, { scope: 'openid offline_access orders:read', prompt: 'consent', resource: ORDERS }, 'alice');
  const next = await oidc.refreshTokenGrant(rp.config, refreshable.refresh_token!);
  t.like((await apiVerifies(next.access_token)).payload, { sub, scope: 'orders:read', aud: ORDERS }, 'a refresh gives the next token for the API');

  const { url: plain, check: plainCheck } = await rp.start({ scope: 'openid profile' });
  const without = await rp.finish(new URL((await qrLoginByFetch(plain, target(), broker.simulator, 'alice')).landed), plainCheck);
  t.throws(() => decodeJwt(without.access_token), undefined, 'without resource: the opaque token as before');
  t.like(await oidc.fetchUserInfo(rp.config, without.access_token, String(sub)), { sub });
});

test.serial('another company\'s app: the consent page names the API and what each scope lets the app do; allowing grants exactly those', async (t) => {
  const rp = await createRp(broker.issuer, rpServer, 'third-party');
  const { url, check } = await rp.start({ scope: 'openid orders:read orders:write', resource: ORDERS });
  const jar = cookieJar();
  const wechat = new URL((await follow(url, jar, target())).url);
  const page = await deliverCallbackToPage(callbackOf(wechat, await issueCode(broker.simulator, wechat.searchParams.get('appid')!, 'bob', 'snsapi_login')), jar, target());
  const html = await page.response.clone().text();
  t.regex(html, /“Third &lt;Party&gt; App”还请求代你使用：/);
  t.regex(html, /订单服务<ul><li>查看你的订单<\/li><li>Place orders for you<\/li><\/ul>/);
  const tokens = await rp.finish(new URL(await allowConsent(page, jar, target())), check);
  const { payload } = await apiVerifies(tokens.access_token);
  t.is(String(payload.scope).split(' ').sort().join(' '), 'orders:read orders:write');
  t.is(payload.client_id, 'third-party');
  // The company's record of the consent (PIPL 14, 23): who, to which app, exactly what the page asked.
  t.true(await broker.logged((line) => {
    const { privacy } = line as { privacy?: { action?: string; by?: string; sub?: string; client?: string; scopes?: string[]; apis?: Record<string, string[]> } };
    return privacy?.action === 'consent' && privacy.by === 'page' && privacy.sub === payload.sub && privacy.client === 'third-party'
      && privacy.scopes?.includes('openid') === true && privacy.apis?.[ORDERS]?.slice().sort().join(' ') === 'orders:read orders:write';
  }), 'consent given, logged');

  // The person's own page says what the app may do with the API, with the app's other access.
  const account = await follow(`${broker.issuer}/account`, jar, target());
  t.regex(await account.response.text(), /<li>订单服务<ul><li>查看你的订单<\/li><li>Place orders for you<\/li><\/ul><\/li><\/ul>/);

  const exported = JSON.parse(await (await follow(`${broker.issuer}/account/export`, jar, target())).response.text()) as { grants: { client: string; apis: unknown }[] };
  t.deepEqual(exported.grants.find((grant) => grant.client === 'third-party')?.apis, { [ORDERS]: 'orders:read orders:write' }, 'and the export');

  // The app's next login in this browser asks nothing again: both scopes were granted.
  const again = await rp.start({ scope: 'openid orders:read', resource: ORDERS });
  const landed = (await follow(again.url, jar, target())).url;
  t.true(landed.startsWith(rpServer.callback), 'no consent page the second time');
  t.is((await apiVerifies((await rp.finish(new URL(landed), again.check)).access_token)).payload.scope, 'orders:read');
});

test.serial('an API the broker does not know, or one the client does not list, is invalid_target (RFC 8707 2), at the authorization and the token endpoint', async (t) => {
  const rp = await createRp(broker.issuer, rpServer);
  const { url } = await rp.start({ resource: 'https://api.example.com/unknown' });
  const landed = new URL((await follow(url, cookieJar(), target())).url);
  t.is(landed.searchParams.get('error'), 'invalid_target');
  const unlisted = await (await createRp(broker.issuer, rpServer, 'rs256')).start({ resource: ORDERS });
  t.is(new URL((await follow(unlisted.url, cookieJar(), target())).url).searchParams.get('error'), 'invalid_target', 'rs256 lists no API');
  const backend = await oidc.discovery(new URL(broker.issuer), 'backend', secretOf('backend'), undefined, { execute: [oidc.allowInsecureRequests] });
  const refused = await oidc.clientCredentialsGrant(backend, { resource: 'https://api.example.com/unknown' }).catch((error: unknown) => error);
  t.is((refused as { error?: string }).error, 'invalid_target');
});

test.serial('a service of the company\'s calls the API for itself: client credentials with resource give a JWT whose sub is the service', async (t) => {
  const backend = await oidc.discovery(new URL(broker.issuer), 'backend', secretOf('backend'), undefined, { execute: [oidc.allowInsecureRequests] });
  const tokens = await oidc.clientCredentialsGrant(backend, { resource: ORDERS, scope: 'orders:read' });
  const { payload } = await apiVerifies(tokens.access_token);
  t.like(payload, { sub: 'backend', client_id: 'backend', scope: 'orders:read', aud: ORDERS });
  t.is(payload.cnf, undefined);
  const keys = await oidc.randomDPoPKeyPair('ES256');
  const bound = await oidc.clientCredentialsGrant(backend, { resource: ORDERS, scope: 'orders:read' }, { DPoP: oidc.getDPoPHandle(backend, keys) });
  t.is(bound.token_type.toLowerCase(), 'dpop');
  t.is(((await apiVerifies(bound.access_token)).payload.cnf as { jkt?: string } | undefined)?.jkt, await calculateJwkThumbprint(await exportJWK(keys.publicKey)), 'bound to the key (RFC 9449 6)');
});

test.serial('signed answers: userinfo as a JWT for an app that registered userinfo_signed_response_alg (OIDC Core 5.3.2), introspection as a JWT for a resource server that registered introspection_signed_response_alg and asks for one (RFC 9701)', async (t) => {
  const rp = await createRp(broker.issuer, rpServer, 'signed', secretOf('signed'), { userinfo_signed_response_alg: 'RS256' });
  const tokens = await logIn(rp, { scope: 'openid profile' }, 'alice');
  const sub = tokens.claims()!.sub;
  const jwks = createRemoteJWKSet(new URL(`${broker.issuer}/jwks`));

  const userinfo = await fetch(`${broker.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.regex(String(userinfo.headers.get('content-type')), /^application\/jwt/);
  const { payload: claims } = await jwtVerify(await userinfo.text(), jwks, { issuer: broker.issuer, audience: 'signed', algorithms: ['RS256'] });
  t.like(claims, { sub, nickname: '小爱 Alice 🌸' });
  t.like(await oidc.fetchUserInfo(rp.config, tokens.access_token, sub), { sub, nickname: '小爱 Alice 🌸' }, 'openid-client checks and reads it');

  const introspect = (accept: string) => fetch(`${broker.issuer}/token/introspection`, {
    method: 'POST', body: new URLSearchParams({ token: tokens.access_token }),
    headers: { accept, authorization: `Basic ${Buffer.from(`auditor:${secretOf('auditor')}`).toString('base64')}` },
  });
  const signed = await introspect('application/token-introspection+jwt');
  t.regex(String(signed.headers.get('content-type')), /^application\/token-introspection\+jwt/);
  const { payload } = await jwtVerify(await signed.text(), jwks, { issuer: broker.issuer, audience: 'auditor', typ: 'token-introspection+jwt' });
  t.like(payload.token_introspection as object, { active: true, sub, client_id: 'signed' });
  t.like(await (await introspect('application/json')).json() as object, { active: true, sub }, 'JSON when JSON is asked for (RFC 9701 4)');
  const auditor = await oidc.discovery(new URL(broker.issuer), 'auditor', { client_secret: secretOf('auditor'), introspection_signed_response_alg: 'RS256' }, undefined, { execute: [oidc.allowInsecureRequests] });
  t.like(await oidc.tokenIntrospection(auditor, tokens.access_token), { active: true, sub }, 'openid-client asks for, checks and reads the JWT');

  const metadata = await (await fetch(`${broker.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
  t.deepEqual(metadata.userinfo_signing_alg_values_supported, metadata.id_token_signing_alg_values_supported, 'what the keys sign, as for ID tokens');
  t.deepEqual(metadata.introspection_signing_alg_values_supported, metadata.id_token_signing_alg_values_supported);
});

test.serial('a consent refused: the app gets access_denied, and the refusal is on record', async (t) => {
  const rp = await createRp(broker.issuer, rpServer, 'third-party');
  const { url, check } = await rp.start({ scope: 'openid profile' });
  const jar = cookieJar();
  const wechat = new URL((await follow(url, jar, target())).url);
  const page = await deliverCallbackToPage(callbackOf(wechat, await issueCode(broker.simulator, wechat.searchParams.get('appid')!, 'chen', 'snsapi_login')), jar, target());
  const landed = new URL(await allowConsent(page, jar, target(), undefined, 'deny'));
  t.is(landed.searchParams.get('error'), 'access_denied');
  await t.throwsAsync(rp.finish(landed, check));
  t.true(await broker.logged((line) => {
    const { privacy } = line as { privacy?: { action?: string; by?: string; client?: string; scopes?: string[] } };
    return line.msg === 'consent refused' && privacy?.action === 'consent-refused' && privacy.by === 'refused' && privacy.client === 'third-party' && privacy.scopes?.includes('profile') === true;
  }));
});
