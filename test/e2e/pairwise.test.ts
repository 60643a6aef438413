// Pairwise subject identifiers (OIDC Core 8.1): a client registered with
// `subject_type: "pairwise"` sees, for the same person, a `sub` no client of another sector
// (redirect URIs on another host) sees, the same at every login, in the ID token, at
// userinfo, at introspection and in back-channel logout tokens; public clients keep the
// account id; an operator traces a reported one back with the accounts CLI. Logins by plain
// HTTP requests (QR login in redirect mode, then the consent page a third party's client
// gets), as a browser makes them; the accounts on Redis, where the CLI finds them too.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { allowConsent, callbackOf, cookieJar, deliverCallbackToPage, follow } from '../helpers/fetch-login.ts';
import { issueCode } from '../helpers/simulator.ts';
import { createRp, type Rp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { CHILD_ENV } from '../helpers/process.ts';
import { eventually } from '../helpers/wait.ts';

let rpServer: RpServer;
let broker: RunningBroker;
let redis: RedisServer;
const secretOf = (id: string) => `${id}-secret-0123456789abcdef0123456789`;

/** The redirect URI of a client of the RP server on `host`: its sector, for a pairwise client. */
const redirectOn = (host: string) => `http://${host}:${new URL(rpServer.origin).port}/callback`;

/** Pairwise clients, and the host of each one's redirect URI. */
const SECTORS = { shop: '127.0.0.1', partner: 'localhost', 'shop-too': '127.0.0.1' } as const;
type Pairwise = keyof typeof SECTORS;

/** What the broker and the accounts CLI both read: the store of accounts, the clients, the secret. */
let env: Record<string, string>;

test.before(async () => {
  [rpServer, redis] = await Promise.all([startRpServer(), startRedis()]);
  const pairwise = Object.entries(SECTORS).map(([id, host]) => ({
    client_id: id, client_secret: secretOf(id), subject_type: 'pairwise', scope: 'openid profile',
    redirect_uris: [redirectOn(host)], backchannel_logout_uri: rpServer.backchannel,
  }));
  // An operator's tool for the admin API (client credentials, accounts:read).
  const ops = { client_id: 'ops', client_secret: secretOf('ops'), grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'accounts:read' };
  env = { REDIS_URL: redis.url, PAIRWISE_SECRET: randomBytes(32).toString('hex'), CLIENTS_FILE: writeClientsFile([...testClients(rpServer.origin), ...pairwise, ops]) };
  broker = await startBroker({ ...env, WECHAT_QR_MODE: 'redirect' });
});
test.after.always(async () => {
  await Promise.all([broker?.stop(), rpServer?.close()]);
  await redis?.stop();
});

/** `user`'s QR login at client `id`: its tokens, the ID token's sub, and the browser's cookies. */
async function logIn(id: Pairwise | 'first-party', user: string): Promise<{ rp: Rp; tokens: oidc.TokenEndpointResponse; sub: string; jar: ReturnType<typeof cookieJar> }> {
  const rp = await createRp(broker.issuer, rpServer, id, id === 'first-party' ? undefined : secretOf(id));
  const { url, check } = await rp.start({ scope: 'openid profile', redirect_uri: id === 'first-party' ? rpServer.callback : redirectOn(SECTORS[id]) });
  const target = { issuer: broker.issuer, direct: broker.origin };
  const jar = cookieJar();
  const wechat = new URL((await follow(url, jar, target)).url);
  const at = await deliverCallbackToPage(callbackOf(wechat, await issueCode(broker.simulator, wechat.searchParams.get('appid')!, user, 'snsapi_login')), jar, target);
  // A pairwise client here is a third party's: the person allows it on the consent page (once).
  const landed = at.url.startsWith(broker.issuer) ? await allowConsent(at, jar, target) : at.url;
  const tokens = await rp.finish(new URL(landed), check);
  return { rp, tokens, sub: String(decodeJwt(tokens.id_token!).sub), jar };
}

test.serial('each sector sees its own sub for a person, the same at every login, at userinfo and at introspection; public clients see the account id', async (t) => {
  const discovery = await (await fetch(`${broker.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
  t.deepEqual(discovery.subject_types_supported, ['public', 'pairwise']);
  const shop = await logIn('shop', 'alice');
  const partner = await logIn('partner', 'alice');
  const shopToo = await logIn('shop-too', 'alice');
  const account = (await logIn('first-party', 'alice')).sub;
  t.regex(shop.sub, /^[A-Za-z0-9_-]{43}$/, 'HMAC-SHA256, base64url');
  t.not(shop.sub, partner.sub, 'another sector, another sub');
  t.is(shopToo.sub, shop.sub, 'OIDC Core 8.1: the same sector, the same sub');
  t.false([shop.sub, partner.sub].includes(account), 'neither is the account id public clients see');
  t.is((await logIn('shop', 'alice')).sub, shop.sub, 'the same at the next login');
  t.not((await logIn('shop', 'bob')).sub, shop.sub, 'another person, another sub');
  const userinfo = await oidc.fetchUserInfo(shop.rp.config, shop.tokens.access_token, shop.sub);
  t.is(userinfo.sub, shop.sub, 'OIDC Core 5.3.2: userinfo\'s sub is the ID token\'s');
  t.like(await introspect(shop.tokens.access_token), { active: true, sub: shop.sub });
});

/** RFC 7662 introspection of `token` by the test clients' resource server. */
async function introspect(token: string): Promise<Record<string, unknown>> {
  const api = testClients(rpServer.origin).find((client) => client.client_id === 'api') as { client_id: string; client_secret: string };
  const response = await fetch(`${broker.issuer}/token/introspection`, {
    method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${api.client_id}:${api.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  return response.json() as Promise<Record<string, unknown>>;
}

test.serial('a logout tells the pairwise client with the sub it knows (Back-Channel Logout 1.0 2.4)', async (t) => {
  const shop = await logIn('shop', 'chen');
  const since = rpServer.logoutTokens().length;
  // RP-Initiated Logout 1.0 in the same browser: the confirmation, then "log out".
  const end = await fetch(`${broker.issuer}/session/end?${new URLSearchParams({ id_token_hint: shop.tokens.id_token! })}`, { headers: { cookie: shop.jar.header() } });
  shop.jar.take(end);
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(await end.text())?.[1];
  t.truthy(xsrf, 'the confirmation page');
  const confirmed = await fetch(`${broker.issuer}/session/end/confirm`, {
    method: 'POST', redirect: 'manual', headers: { cookie: shop.jar.header(), origin: broker.issuer, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ xsrf: xsrf!, logout: 'yes' }),
  });
  t.is(confirmed.status, 303);
  t.true(await eventually(() => rpServer.logoutTokens().slice(since).some((token) => decodeJwt(token).sub === shop.sub)), 'the logout token names the shop\'s sub');
});

/** `npm run accounts -- …args` in the broker's environment, as an operator at its shell runs it. */
function accountsCli(...args: string[]) {
  return spawnSync(process.execPath, ['--experimental-strip-types', 'src/cli/accounts.ts', ...args], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8', env: { ...CHILD_ENV, ...env, WECHAT_SIMULATOR_PORT: '0' }, timeout: 120_000,
  });
}

/** GET /admin/accounts?… with the operator's tool's token. */
async function adminFind(query: Record<string, string>) {
  const config = await oidc.discovery(new URL(broker.issuer), 'ops', secretOf('ops'), undefined, { execute: [oidc.allowInsecureRequests] });
  const { access_token: token } = await oidc.clientCredentialsGrant(config, { scope: 'accounts:read' });
  const response = await fetch(`${broker.issuer}/admin/accounts?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}

test.serial('a partner reports a pairwise sub: the operator finds the account behind it, with the admin API or the accounts CLI, audited; another sector\'s sub is nobody there', async (t) => {
  const shop = await logIn('shop', 'bob');
  const partner = await logIn('partner', 'bob');
  const account = (await logIn('first-party', 'bob')).sub;
  t.like(await adminFind({ client: 'shop', sub: shop.sub }), { status: 200, body: { sub: account } });
  t.like(await adminFind({ client: 'partner', sub: shop.sub }), { status: 404 }, 'another sector\'s sub');
  t.like(await adminFind({ client: 'shop', sub: 'a b' }), { status: 400 });
  t.true(await broker.logged((line) => (line.admin as { action?: string; target?: unknown } | undefined)?.action === 'find'
    && JSON.stringify((line.admin as { target: unknown }).target) === JSON.stringify({ sub: shop.sub, client: 'shop' })), 'audited with what it named');
  const found = accountsCli('find', '--client', 'shop', `--sub=${shop.sub}`);
  t.is(found.status, 0, found.stderr);
  t.is((JSON.parse(found.stdout) as { sub: string }).sub, account);
  const audit = found.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { admin?: unknown }).find((line) => line.admin);
  t.deepEqual(audit?.admin, { client: 'cli', action: 'find', target: { sub: shop.sub, client: 'shop' }, outcome: 'ok', sub: account }, 'audited as the admin API\'s calls are');
  const elsewhere = accountsCli('find', '--client', 'shop', `--sub=${partner.sub}`);
  t.is(elsewhere.status, 2);
  t.regex(elsewhere.stderr, /accounts: no such account/);
  // A pairwise sub is base64url: one in 64 begins with '-', which `--sub S` would read as an option (as the README writes it: `--sub=S`).
  const dashed = accountsCli('find', '--client', 'shop', '--sub=-Ab3_cD');
  t.regex(dashed.stderr, /accounts: no such account/);
  const publicClient = accountsCli('find', '--client', 'first-party', `--sub=${account}`);
  t.is(publicClient.status, 2);
  t.regex(publicClient.stderr, /client first-party is not pairwise: the sub it has is the account's, for show/);
});
