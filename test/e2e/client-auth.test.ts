// Client authentication without a shared secret: a relying party registered with
// `token_endpoint_auth_method: private_key_jwt` and its public keys (`jwks`) proves itself
// with a JWT signed by its private key (RFC 7523 2.2, OIDC Core 9), at the token endpoint
// and at introspection; another key, or an assertion used before, is `invalid_client`.
// openid-client plays the relying party (certified RP code); the assertions it would never
// send are made here with jose. The login is a QR login by plain HTTP requests, with consent for offline_access.

import test from 'ava';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { allowConsent, callbackOf, cookieJar, deliverCallbackToPage, follow } from '../helpers/fetch-login.ts';
import { issueCode } from '../helpers/simulator.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';

let rpServer: RpServer;
let broker: RunningBroker;
let keys: CryptoKeyPair;

test.before(async () => {
  [rpServer, keys] = await Promise.all([startRpServer(), generateKeyPair('ES256')]);
  const jwk = { ...await exportJWK(keys.publicKey), kid: 'shop-2026', alg: 'ES256', use: 'sig' };
  broker = await startBroker({
    CLIENTS_FILE: writeClientsFile([
      ...testClients(rpServer.origin),
      { client_id: 'shop', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] }, redirect_uris: [rpServer.callback], first_party: true, scope: 'openid profile offline_access' },
    ]),
    WECHAT_QR_MODE: 'redirect',
  });
});
test.after.always(async () => {
  await Promise.all([broker?.stop(), rpServer?.close()]);
});

const clientWith = (key: CryptoKey) => oidc.discovery(new URL(broker.issuer), 'shop', undefined, oidc.PrivateKeyJwt({ key, kid: 'shop-2026' }), { execute: [oidc.allowInsecureRequests] });

/** An assertion as RFC 7523 3 writes one, signed with `key`. */
const assertion = (key: CryptoKey) => new SignJWT({ jti: randomUUID() })
  .setProtectedHeader({ alg: 'ES256', kid: 'shop-2026' }).setIssuer('shop').setSubject('shop').setAudience(broker.issuer)
  .setIssuedAt().setExpirationTime('1m').sign(key);

async function introspectWith(clientAssertion: string, token: string) {
  const response = await fetch(`${broker.issuer}/token/introspection`, {
    method: 'POST',
    body: new URLSearchParams({ token, client_id: 'shop', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: clientAssertion }),
  });
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}

test.serial('private_key_jwt: a login\'s code, a refresh and introspection with assertions signed by the registered key; another key, or an assertion used twice, is invalid_client', async (t) => {
  const discovery = await (await fetch(`${broker.issuer}/.well-known/openid-configuration`)).json() as Record<string, string[]>;
  t.true(discovery.token_endpoint_auth_methods_supported?.includes('private_key_jwt'));
  t.true(discovery.token_endpoint_auth_signing_alg_values_supported?.includes('ES256'));
  const config = await clientWith(keys.privateKey);
  const check = { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: oidc.randomState() };
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: rpServer.callback, scope: 'openid profile offline_access', prompt: 'consent', state: check.expectedState,
    code_challenge: await oidc.calculatePKCECodeChallenge(check.pkceCodeVerifier), code_challenge_method: 'S256',
  });
  const target = { issuer: broker.issuer, direct: broker.origin };
  const jar = cookieJar();
  const wechat = new URL((await follow(url.href, jar, target)).url);
  const consent = await deliverCallbackToPage(callbackOf(wechat, await issueCode(broker.simulator, wechat.searchParams.get('appid')!, 'alice', 'snsapi_login')), jar, target);
  const landed = await allowConsent(consent, jar, target);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed), check);
  t.truthy(tokens.claims()?.sub);
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  t.truthy(refreshed.access_token);

  const stranger = (await generateKeyPair('ES256')).privateKey;
  const forged = await t.throwsAsync<oidc.ResponseBodyError>(oidc.refreshTokenGrant(await clientWith(stranger), refreshed.refresh_token!));
  t.is(forged?.error, 'invalid_client', 'another key');
  const once = await assertion(keys.privateKey);
  t.like(await introspectWith(once, refreshed.access_token), { status: 200, body: { active: true, client_id: 'shop' } });
  t.like(await introspectWith(once, refreshed.access_token), { status: 401, body: { error: 'invalid_client' } }, 'an assertion is good once (its jti)');
  t.like(await introspectWith(await assertion(stranger), refreshed.access_token), { status: 401, body: { error: 'invalid_client' } });
  t.truthy((await oidc.refreshTokenGrant(config, refreshed.refresh_token!)).access_token, 'the refresh token survived the forged attempt');
});
