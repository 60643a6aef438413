// How long a person's grant to an app lives against the tokens issued under it, on a real
// Redis: oidc-provider refuses a token whose grant is gone, whatever the token's `exp`
// says. A grant near its end (aged here by rewriting its record, as 29 days would) gets no
// token that outlives it, and the person's next login renews it, so that login's refresh
// token lives its full two weeks. First-party apps (no consent page of their own; the
// consent page here is `prompt=consent`'s, which `offline_access` needs) and third-party
// ones take different paths to their grant; both are checked.

import test from 'ava';
import { Redis } from 'ioredis';
import { REFRESH_TOKEN_S } from '../../src/oidc/grants.ts';
import { startBroker, testClients, writeClientsFile } from '../helpers/broker.ts';
import { allowConsent, callbackOf, cookieJar, deliverCallbackToPage, follow } from '../helpers/fetch-login.ts';
import { startRedis } from '../helpers/redis.ts';
import { issueCode } from '../helpers/simulator.ts';

const RP = 'https://rp.example';
const CLIENTS = testClients(RP);
/** What is left of a grant near its end: less than an access token's hour. */
const LEFT_S = 600;

interface TokenAnswer { access_token: string; expires_in: number; refresh_token?: string }

test('a grant near its end outlives every token issued under it, and the next login renews it for a full refresh token', async (t) => {
  const redis = await startRedis();
  const store = new Redis(redis.url);
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(CLIENTS), REDIS_URL: redis.url, WECHAT_QR_MODE: 'redirect' }).catch(async (error: unknown) => {
    store.disconnect();
    await redis.stop();
    throw error;
  });
  const target = { issuer: broker.issuer, direct: broker.origin };
  const jar = cookieJar();

  const tokenRequest = async (clientId: string, path: string, body: Record<string, string>) => {
    const secret = CLIENTS.find((client) => client.client_id === clientId)!.client_secret!;
    const response = await fetch(`${broker.origin}${path}`, {
      method: 'POST', body: new URLSearchParams(body),
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    t.is(response.status, 200, `${path}: ${response.status}`);
    return response.json() as Promise<Record<string, unknown>>;
  };
  /** A login to `clientId` (asking for a refresh token, the consent allowed, unless `quiet`: then no page at all); the tokens for its code. */
  const login = async (clientId: string, quiet = false): Promise<TokenAnswer> => {
    const authorize = `${broker.issuer}/auth?${new URLSearchParams({
      client_id: clientId, response_type: 'code', redirect_uri: `${RP}/callback`, state: 'state-0123456789',
      ...(quiet ? { scope: 'openid' } : { scope: 'openid offline_access', prompt: 'consent' }),
    })}`;
    let page = await follow(authorize, jar, target);
    if (page.url.startsWith(broker.simulator)) {
      const wechat = new URL(page.url);
      page = await deliverCallbackToPage(callbackOf(wechat, await issueCode(broker.simulator, wechat.searchParams.get('appid')!, 'alice', 'snsapi_login')), jar, target);
    }
    const landed = new URL(page.url.startsWith(RP) ? page.url : await allowConsent(page, jar, target));
    t.is(landed.origin + landed.pathname, `${RP}/callback`, 'the login reached the app');
    return await tokenRequest(clientId, '/token', { grant_type: 'authorization_code', code: landed.searchParams.get('code')!, redirect_uri: `${RP}/callback` }) as unknown as TokenAnswer;
  };
  /** The Redis key and payload of the person's grant to `clientId`. */
  const grantOf = async (clientId: string) => {
    const keys = (await store.keys('*:Grant:*')).filter((key) => !key.includes(':Grant:account:'));
    for (const key of keys) {
      const payload = JSON.parse((await store.hget(key, 'payload'))!) as { clientId: string; exp: number };
      if (payload.clientId === clientId) return { key, payload };
    }
    throw new Error(`no grant for ${clientId}`);
  };
  /** The grant's record rewritten as its last minutes would find it. */
  const nearItsEnd = async (clientId: string) => {
    const { key, payload } = await grantOf(clientId);
    const exp = Math.floor(Date.now() / 1000) + LEFT_S;
    await store.hset(key, 'payload', JSON.stringify({ ...payload, exp }));
    await store.expire(key, LEFT_S);
    return exp;
  };
  const lifetime = async (clientId: string, token: string) => {
    const { active, iat, exp } = await tokenRequest(clientId, '/token/introspection', { token }) as { active: boolean; iat: number; exp: number };
    t.true(active);
    return { iat, exp, seconds: exp - iat };
  };

  try {
    for (const clientId of ['first-party', 'third-party']) {
      const first = await login(clientId);
      t.truthy(first.refresh_token, `${clientId}: a refresh token`);
      const ends = await nearItsEnd(clientId);

      const refreshed = await tokenRequest(clientId, '/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token! }) as unknown as TokenAnswer;
      t.true(refreshed.expires_in <= LEFT_S, `${clientId}: the access token ends with its grant (expires_in ${refreshed.expires_in})`);
      const rotated = await lifetime(clientId, refreshed.refresh_token!);
      t.true(rotated.exp <= ends && rotated.seconds <= LEFT_S, `${clientId}: the rotated refresh token ends with its grant (lives ${rotated.seconds} s)`);

      const again = await login(clientId);
      const renewed = (await grantOf(clientId)).payload.exp;
      t.true(renewed > ends, `${clientId}: the login renewed the grant`);
      const fresh = await lifetime(clientId, again.refresh_token!);
      t.is(fresh.seconds, REFRESH_TOKEN_S, `${clientId}: the login's refresh token lives its full term`);
      t.true(fresh.exp <= renewed, `${clientId}: within its grant`);
      t.is(again.expires_in, 60 * 60, `${clientId}: and its access token its hour`);
      const used = await tokenRequest(clientId, '/token', { grant_type: 'refresh_token', refresh_token: again.refresh_token! });
      t.is(typeof used.access_token, 'string', `${clientId}: the renewed grant's refresh token works`);

      // A login that shows no page (the session lives, the grant holds what it asks for) renews it too.
      const endsAgain = await nearItsEnd(clientId);
      const quiet = await login(clientId, true);
      t.true((await grantOf(clientId)).payload.exp > endsAgain, `${clientId}: a login with no page renewed the grant`);
      t.is(quiet.expires_in, 60 * 60, `${clientId}: its access token lives its hour`);
    }
  } finally {
    store.disconnect();
    await broker.stop();
    await redis.stop();
  }
});
