// How long a person's grant to an app lives against the tokens issued under it, on a real
// Redis: oidc-provider refuses a token whose grant is gone, whatever the token's `exp`
// says. A grant near its end (aged here by rewriting its record, as 29 days would) gets no
// token that outlives it, and the person's next login renews it, so that login's refresh
// token lives its full two weeks. First-party apps (no consent page of their own; the
// consent page here is `prompt=consent`'s, which `offline_access` needs) and third-party
// ones take different paths to their grant; both are checked. So is a mini program's token
// exchange, whose launches share one grant and one session for the person: two first launches
// at once can each record a session, and the next launch leaves one.

import test, { type ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { REFRESH_TOKEN_S } from '../../src/oidc/grants.ts';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { allowConsent, callbackOf, cookieJar, deliverCallbackToPage, follow } from '../helpers/fetch-login.ts';
import { exchange, heldFor, miniProgramClient, OPS_CLIENT, TOKEN_EXCHANGE, wxLogin } from '../helpers/mini-program.ts';
import { startRedis } from '../helpers/redis.ts';
import { issueCode, simApp, startTestSimulator } from '../helpers/simulator.ts';
import { tempDir } from '../helpers/temp.ts';

const RP = 'https://rp.example';
const CLIENTS = testClients(RP);
/** What is left of a grant near its end: less than an access token's hour. */
const LEFT_S = 600;

interface TokenAnswer { access_token: string; expires_in: number; refresh_token?: string }

/** The person's grants in Redis, read and aged as the days would. */
function grantRecords(store: Redis) {
  /** The Redis key and payload of the person's grant to `clientId` (the only one). */
  const grantOf = async (clientId: string) => {
    const keys = (await store.keys('*:Grant:*')).filter((key) => !key.includes(':Grant:account:'));
    const found = [];
    for (const key of keys) {
      const payload = JSON.parse((await store.hget(key, 'payload'))!) as { clientId: string; exp: number };
      if (payload.clientId === clientId) found.push({ key, payload });
    }
    if (found.length !== 1) throw new Error(`${found.length} grants for ${clientId}`);
    return found[0]!;
  };
  /** The grant's record rewritten as its last minutes would find it. */
  const nearItsEnd = async (clientId: string) => {
    const { key, payload } = await grantOf(clientId);
    const exp = Math.floor(Date.now() / 1000) + LEFT_S;
    await store.hset(key, 'payload', JSON.stringify({ ...payload, exp }));
    await store.expire(key, LEFT_S);
    return exp;
  };
  return { grantOf, nearItsEnd };
}

/** A browser's logins at `broker` by plain HTTP (one cookie jar), and a client's calls at its token endpoints. */
function webLogins(t: ExecutionContext, broker: RunningBroker) {
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
  return { tokenRequest, login, jar, target };
}

test('a grant near its end outlives every token issued under it, and the next login renews it for a full refresh token', async (t) => {
  const redis = await startRedis();
  const store = new Redis(redis.url);
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(CLIENTS), REDIS_URL: redis.url, WECHAT_QR_MODE: 'redirect' }).catch(async (error: unknown) => {
    store.disconnect();
    await redis.stop();
    throw error;
  });
  const { tokenRequest, login } = webLogins(t, broker);
  const { grantOf, nearItsEnd } = grantRecords(store);
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

test('SESSION_MAX_HOURS: a login session ends that long after its login, however often apps use it; the tokens it gave without offline_access end with it', async (t) => {
  const redis = await startRedis();
  const store = new Redis(redis.url);
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(CLIENTS), REDIS_URL: redis.url, WECHAT_QR_MODE: 'redirect', SESSION_MAX_HOURS: '1' }).catch(async (error: unknown) => {
    store.disconnect();
    await redis.stop();
    throw error;
  });
  const { tokenRequest, login, jar, target } = webLogins(t, broker);
  /** The person's one session: its Redis key, its login time and expiry. */
  const session = async () => {
    const [key, ...more] = (await store.keys('*:Session:*')).filter((name) => !/:Session:(account|uid):/.test(name));
    if (!key || more.length > 0) throw new Error('not one session');
    const { loginTs, exp } = JSON.parse((await store.hget(key, 'payload'))!) as { loginTs: number; exp: number };
    return { key, loginTs, exp };
  };
  try {
    const first = await login('first-party', true);
    const opened = await session();
    t.is(opened.exp, opened.loginTs + 3600, 'an hour from the login, not the 14 days of idle time');
    t.true(await store.ttl(opened.key) <= 3600);
    // Another app's login through the session: single sign-on, no new login; the maximum stands.
    const second = await login('third-party', true);
    const used = await session();
    t.is(used.loginTs, opened.loginTs, 'the same login');
    t.is(used.exp, opened.loginTs + 3600, 'the use renewed nothing past the maximum');
    t.true((await tokenRequest('first-party', '/token/introspection', { token: first.access_token })).active as boolean);
    // A session saved before the maximum was set, its login two hours ago, still in the store: no app gets it without a login.
    const stale = JSON.parse((await store.hget(used.key, 'payload'))!) as Record<string, unknown>;
    await store.hset(used.key, 'payload', JSON.stringify({ ...stale, loginTs: used.loginTs - 2 * 3600 }));
    const silent = await follow(`${broker.issuer}/auth?${new URLSearchParams({
      client_id: 'first-party', response_type: 'code', redirect_uri: `${RP}/callback`, scope: 'openid', prompt: 'none', state: 'state-0123456789',
    })}`, jar, target);
    t.is(new URL(silent.url).searchParams.get('error'), 'login_required', 'prompt=none: login_required (OIDC Core 3.1.2.6)');
    // The hour is up (the record goes as Redis expires it).
    await store.del(used.key);
    for (const [clientId, tokens] of [['first-party', first], ['third-party', second]] as const) {
      t.false((await tokenRequest(clientId, '/token/introspection', { token: tokens.access_token })).active as boolean, `${clientId}: its access token ended with the session`);
    }
  } finally {
    store.disconnect();
    await broker.stop();
    await redis.stop();
  }
});

/** A broker on a real Redis with one first-party mini program (and the operator's export client), for `run`. */
async function withRedisMini(run: (parts: { store: Redis; config: oidc.Configuration; launch: () => Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers>; issuer: string }) => Promise<void>) {
  const mini = simApp('miniprogram');
  const [redis, simulator] = await Promise.all([startRedis(), startTestSimulator([mini])]);
  const store = new Redis(redis.url);
  const stopAll = async () => {
    store.disconnect();
    await Promise.all([redis.stop(), simulator.close()]);
  };
  const appsFile = join(tempDir('grant-lifetime-mini'), 'apps.json');
  writeFileSync(appsFile, JSON.stringify([{ id: 'mini', kind: 'miniprogram', appid: mini.appid, secret_env: 'MINI_SECRET' }]));
  const client = {
    client_id: 'mini', token_endpoint_auth_method: 'none', grant_types: [TOKEN_EXCHANGE, 'refresh_token'], response_types: [], wechat_apps: ['mini'],
    scope: 'openid offline_access', first_party: true,
  };
  const broker = await startBroker({
    CLIENTS_FILE: writeClientsFile([client, OPS_CLIENT]), REDIS_URL: redis.url, WECHAT_APPS_FILE: appsFile, MINI_SECRET: mini.secret,
    WECHAT_CONNECT_URL: simulator.url, WECHAT_API_URL: simulator.url, WECHAT_LOGIN_JS_URL: simulator.loginJsUrl,
  }).catch(async (error: unknown) => {
    await stopAll();
    throw error;
  });
  try {
    const config = await miniProgramClient(broker.issuer, 'mini');
    const launch = async () => exchange(config, await wxLogin(simulator.url, mini.appid, 'alice'), 'openid offline_access');
    await run({ store, config, launch, issuer: broker.issuer });
  } finally {
    await broker.stop();
    await stopAll();
  }
}

test('a mini program\'s next launch renews the grant its launches share, near its end, for a full refresh token', async (t) => {
  await withRedisMini(async ({ store, config, launch }) => {
    const { grantOf, nearItsEnd } = grantRecords(store);
    await launch();
    const ends = await nearItsEnd('mini');
    const next = await launch();
    const renewed = (await grantOf('mini')).payload.exp;
    t.true(renewed > ends, 'the launch renewed the shared grant');
    const introspected = await oidc.tokenIntrospection(config, next.refresh_token!);
    t.is(Number(introspected.exp) - Number(introspected.iat), REFRESH_TOKEN_S, 'its refresh token lives its full term');
    t.true(Number(introspected.exp) <= renewed, 'within its grant');
    t.is(next.expires_in, 60 * 60, 'and its access token its hour');
  });
});

test('two first launches at the same moment may each record a session: the next launch leaves the person one, and every launch\'s tokens work', async (t) => {
  await withRedisMini(async ({ store, config, launch, issuer }) => {
    const first = await launch();
    const sub = first.claims()!.sub;
    // What a second phone's first launch at that very moment records (it too found no session
    // to share): a session of its own for the person and the mini program, a moment older.
    const [key, ...more] = (await store.keys('*Session:*')).filter((name) => !/Session:(account|uid):/.test(name));
    t.is(more.length, 0, 'the first launch recorded one session');
    const payload = JSON.parse((await store.hget(key!, 'payload'))!) as { jti: string; uid: string; loginTs: number };
    const twin = { ...payload, jti: 'second-phone-session', uid: 'second-phone-uid', loginTs: payload.loginTs - 1 };
    await store.hset(key!.replace(payload.jti, twin.jti), 'payload', JSON.stringify(twin));
    await store.expire(key!.replace(payload.jti, twin.jti), 3600);
    await store.sadd((await store.keys('*Session:account:*'))[0]!, twin.jti);
    t.is((await heldFor(issuer, sub)).sessions.length, 2, 'the person has two sessions of the mini program');

    const next = await launch();
    const held = (await heldFor(issuer, sub)).sessions;
    t.is(held.length, 1, 'the next launch left one');
    t.is(Date.parse(held[0]!.logged_in_at) / 1000, Number(next.claims()!.auth_time), 'the one the next launch logged in');
    for (const tokens of [first, next]) t.is((await oidc.fetchUserInfo(config, tokens.access_token, sub)).sub, sub, 'each launch\'s access token works');
  });
});
