// Erasure, unlinking and back-channel logout (issue: account administration): an operator
// erases a person or unlinks a wrong identity through the admin API or the CLI; nothing of
// the person is left in the store, their tokens stop working, a later login is a new
// account, and relying parties that registered a backchannel_logout_uri receive a logout
// token (OIDC Back-Channel Logout 1.0) without the action waiting for them.

import test from 'ava';
import { Redis } from 'ioredis';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { createRp, type Rp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { qrLoginByFetch } from '../helpers/fetch-login.ts';
import { loginInWeChat, startQrLogin } from '../helpers/wechat.ts';
import { eventually } from '../helpers/wait.ts';
import { accountsCli as cli } from '../helpers/accounts-cli.ts';

let browser: Browser;
let rpServer: RpServer;
let redis: RedisServer;
let broker: RunningBroker;

const SECRET = (id: string) => `${id}-secret-0123456789abcdef0123456789`;
const PAIRWISE = '5e1f0c9a7b3d2e8f4a6c1b9d0e7f3a5c2b8d4e6f1a0c9b7d3e5f2a8c4b6d1e0f';
const tool = (id: string, scope: string) => ({ client_id: id, client_secret: SECRET(id), grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope });

test.before(async () => {
  [browser, rpServer, redis] = await Promise.all([launchChromium(), startRpServer(), startRedis()]);
  const listening = {
    client_id: 'listening', client_secret: SECRET('listening'), client_name: 'Listening App', first_party: true,
    redirect_uris: [rpServer.callback], post_logout_redirect_uris: [rpServer.loggedOut],
    grant_types: ['authorization_code', 'refresh_token'], backchannel_logout_uri: rpServer.backchannel, backchannel_logout_session_required: true,
    security_events_uri: rpServer.securityEvents,
  };
  // Another company's apps, told of an erasure only when they knew the person: one with a pairwise sub, one that never sees them.
  const partner = (id: string) => ({
    client_id: id, client_secret: SECRET(id), client_name: id, redirect_uris: [rpServer.callback], subject_type: 'pairwise', scope: 'openid profile',
    security_events_uri: rpServer.securityEvents,
  });
  broker = await startBroker({
    REDIS_URL: redis.url, PAIRWISE_SECRET: PAIRWISE,
    CLIENTS_FILE: writeClientsFile([...testClients(rpServer.origin), listening, partner('partner'), partner('bystander'), tool('ops', 'accounts:read accounts:write'), tool('reader', 'accounts:read')]),
  });
});
test.after.always(async () => {
  await Promise.all([browser?.close(), broker?.stop(), rpServer?.close()]);
  await redis?.stop();
});

const listeningRp = () => createRp(broker.issuer, rpServer, 'listening', SECRET('listening'));

async function toolToken(id: string, scope: string): Promise<string> {
  const config = await oidc.discovery(new URL(broker.issuer), id, SECRET(id), undefined, { execute: [oidc.allowInsecureRequests] });
  return (await oidc.clientCredentialsGrant(config, { scope })).access_token;
}

async function admin(method: string, path: string, token?: string) {
  const response = await fetch(`${broker.issuer}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
}

/** A QR login at `rp` kept open in its browser (for a logout later). */
async function qrLogin(rp: Rp, user: RegExp, scope = 'openid profile wechat offline_access') {
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  const check = await startQrLogin(page, rp, { scope, prompt: 'consent' }, user);
  await page.getByRole('button', { name: /同意|Allow/ }).click();
  const tokens = await rp.finish(await rp.landed(page), check);
  return { context, page, tokens, sub: tokens.claims()!.sub };
}

/** The logout tokens received since `since`, verified as an RP must (section 2.6). */
async function logoutTokensSince(since: number) {
  const jwks = createRemoteJWKSet(new URL(`${broker.issuer}/jwks`));
  return Promise.all(rpServer.logoutTokens().slice(since).map(async (token) =>
    (await jwtVerify(token, jwks, { issuer: broker.issuer, audience: 'listening', typ: 'logout+jwt' })).payload));
}

async function waitForLogoutTokens(since: number, count: number) {
  await eventually(() => rpServer.logoutTokens().length >= since + count);
  return logoutTokensSince(since);
}

/** Every key and value in Redis, as text. */
async function redisDump(): Promise<string> {
  const client = new Redis(redis.url);
  try {
    const parts: string[] = [];
    for (const key of await client.keys('*')) {
      const type = await client.type(key);
      const value = type === 'string' ? await client.get(key) : type === 'hash' ? await client.hgetall(key)
        : type === 'set' ? await client.smembers(key) : type === 'zset' ? await client.zrange(key, '0', '-1') : '';
      parts.push(key, JSON.stringify(value));
    }
    return parts.join('\n');
  } finally {
    client.disconnect();
  }
}

/** The Redis keys of the records of the browsers the person's sessions are held in. */
async function sessionDeviceKeys(sub: string): Promise<string[]> {
  const client = new Redis(redis.url);
  try {
    const sessions = await client.smembers(`wechat-broker:Session:account:${sub}`);
    const payloads = await Promise.all(sessions.map((id) => client.hget(`wechat-broker:Session:${id}`, 'payload')));
    const keys = payloads.flatMap((payload) => (payload ? [`wechat-broker:SessionDevice:${(JSON.parse(payload) as { uid: string }).uid}`] : []));
    const held = await Promise.all(keys.map(async (key) => (await client.exists(key)) === 1));
    return keys.filter((_key, index) => held[index]);
  } finally {
    client.disconnect();
  }
}

test.serial('DELETE /admin/accounts/<sub>: nothing of the person is left, their tokens stop working, the RP is told, a later login is a new account', async (t) => {
  const rp = await listeningRp();
  const { context, tokens, sub } = await qrLogin(rp, /陈大文/);
  await context.close();
  const ops = await toolToken('ops', 'accounts:read accounts:write');
  const account = (await admin('GET', `/admin/accounts/${sub}`, ops)).body as { unionid: string; identities: Array<{ openid: string }> };
  const traces = [sub, account.unionid, ...account.identities.map((identity) => identity.openid)];
  t.true(traces.every((trace) => trace.length > 8));
  const before = await redisDump();
  t.true(traces.every((trace) => before.includes(trace)), 'the person is in the store before');
  const devices = await sessionDeviceKeys(sub);
  t.is(devices.length, 1, 'the browser their session is held in is noted');
  const received = rpServer.logoutTokens().length;

  t.is((await admin('DELETE', `/admin/accounts/${sub}`, ops)).status, 204);
  const probe = new Redis(redis.url);
  t.is(await probe.exists(...devices), 0, 'and goes with the session');
  probe.disconnect();

  const after = await redisDump();
  for (const trace of traces) {
    const holders = after.split('\n').flatMap((entry, index, all) => (index % 2 === 0 && `${entry}\n${all[index + 1]}`.includes(trace) ? [`${entry} = ${all[index + 1]}`] : []));
    // The one exception: the sub's tombstone, which holds nothing and keeps the sub from ever being given again.
    const expected = trace === sub ? [`wechat-broker:{accounts}:alias:${sub} = ""`] : [];
    t.deepEqual(holders, expected, `nothing in Redis holds ${trace === sub ? 'the sub' : 'an identifier'}`);
  }
  t.is((await admin('GET', `/admin/accounts/${sub}`, ops)).status, 404);
  // An erasure interrupted after the account went (say Redis failed before the sessions
  // did): a session of the sub is still there. Asking again finishes it, and is still 404.
  const client = new Redis(redis.url);
  t.teardown(() => client.disconnect());
  await client.hset('wechat-broker:Session:left-behind', 'payload', JSON.stringify({ jti: 'left-behind', accountId: sub, authorizations: {} }));
  await client.sadd(`wechat-broker:Session:account:${sub}`, 'left-behind');
  t.is((await admin('DELETE', `/admin/accounts/${sub}`, ops)).status, 404);
  t.is(await client.exists('wechat-broker:Session:left-behind'), 0, 'the session left behind is gone');
  const userinfo = await t.throwsAsync(oidc.fetchUserInfo(rp.config, tokens.access_token, sub));
  t.regex(JSON.stringify((userinfo as { cause?: unknown }).cause), /invalid_token/);
  for (const token of [tokens.access_token, tokens.refresh_token!]) t.false((await oidc.tokenIntrospection(rp.config, token)).active);
  const refreshed = await t.throwsAsync(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!));
  t.is((refreshed as oidc.ResponseBodyError).error, 'invalid_grant');

  const [logout] = await waitForLogoutTokens(received, 1);
  t.like(logout, { sub, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });
  t.is(typeof logout?.sid, 'string', 'the session\'s sid, as the client registered backchannel_logout_session_required');
  t.is(logout?.nonce, undefined);

  const again = await qrLogin(rp, /陈大文/);
  await again.context.close();
  t.not(again.sub, sub, 'the same WeChat person later is a new account; the sub is never reused');
  t.true(await broker.logged((line) => line.msg === 'account erased' && (line.privacy as { sub?: string; by?: string; client?: string }).sub === sub
    && (line.privacy as { by?: string }).by === 'admin' && (line.privacy as { client?: string }).client === 'ops'));
});

test.serial('logging out of every app at an app (RP-initiated logout) takes the record of the session\'s browser along', async (t) => {
  const rp = await listeningRp();
  const { context, page, tokens, sub } = await qrLogin(rp, /Bob/);
  t.teardown(() => context.close());
  const probe = new Redis(redis.url);
  t.teardown(() => probe.disconnect());
  const devices = await sessionDeviceKeys(sub);
  t.true(devices.length >= 1, 'the browser this login was in is noted');
  const payloads = await Promise.all(devices.map((key) => probe.hget(key, 'payload')));
  t.true(payloads.every((payload) => JSON.parse(payload!).name === 'Chrome · Linux'), 'the browser in the page\'s words, never its User-Agent');
  await page.goto(oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: rpServer.loggedOut }).href);
  await page.getByRole('button', { name: 'Log out of all apps' }).click();
  await page.waitForURL((url) => url.href.startsWith(rpServer.loggedOut));
  // Bob may be logged in elsewhere from earlier tests: this browser's session is the one that went.
  t.is(await probe.exists(...devices), devices.length - 1, 'the session ended, and its browser\'s record with it');
  t.is((await sessionDeviceKeys(sub)).length, devices.length - 1);
});

test.serial('an erased account: each app that asked is told it is gone (RISC account-purged, pushed as RFC 8935 says), with the sub it knows; an app that never knew the person is not; a refusal is not retried', async (t) => {
  const rp = await listeningRp();
  const partnerRp = await createRp(broker.issuer, rpServer, 'partner', SECRET('partner'));
  const first = await qrLogin(rp, /Alice/);
  const atPartner = await qrLogin(partnerRp, /Alice/, 'openid profile');
  await Promise.all([first.context.close(), atPartner.context.close()]);
  t.not(atPartner.sub, first.sub, 'the partner knows a pairwise sub');
  const since = rpServer.securityEventTokens().length;
  const ops = await toolToken('ops', 'accounts:read accounts:write');
  t.is((await admin('DELETE', `/admin/accounts/${first.sub}`, ops)).status, 204);

  t.true(await eventually(() => rpServer.securityEventTokens().length >= since + 2));
  const told = await rpServer.securityEventsSince(since, broker.issuer);
  t.deepEqual([...told.keys()].sort(), ['listening', 'partner'], 'the first-party app and the partner that knew her; never the bystander');
  for (const [client, sub] of [['listening', first.sub], ['partner', atPartner.sub]] as const) {
    const payload = told.get(client)!;
    t.deepEqual(payload.events, { 'https://schemas.openid.net/secevent/risc/event-type/account-purged': {} });
    t.deepEqual(payload.sub_id, { format: 'iss_sub', iss: broker.issuer, sub }, `${client}: the sub it knows`);
    t.is(typeof payload.jti, 'string');
    t.is(typeof payload.iat, 'number');
  }
  t.true(await broker.logged((line) => line.msg === 'security event delivered' && line.client === 'partner'));

  // A receiver that refuses (400, RFC 8935 2.3) is not asked again: the log says why.
  const again = await qrLogin(rp, /Alice/);
  await again.context.close();
  rpServer.refuseNextEvents(1);
  t.is((await admin('DELETE', `/admin/accounts/${again.sub}`, ops)).status, 204);
  t.true(await broker.logged((line) => line.msg === 'security event not delivered: given up' && line.client === 'listening' && line.attempt === 1
    && String(line.reason).includes('invalid_request')));
  const metrics = await (await fetch(`${broker.issuer}/metrics`)).text();
  t.regex(metrics, /^broker_security_events_total\{outcome="delivered"\} [2-9]/m, 'counted for the operator');
  t.regex(metrics, /^broker_security_events_total\{outcome="failed"\} 1$/m);
});

test.serial('POST /admin/accounts/<sub>/logout: signed out everywhere, every token refused, the RP told; the account stays, and the next login is the same sub; the CLI does the same', async (t) => {
  const rp = await listeningRp();
  const first = await qrLogin(rp, /小爱/);
  const second = await qrLogin(rp, /小爱/);
  await Promise.all([first.context.close(), second.context.close()]);
  t.is(second.sub, first.sub);
  const ops = await toolToken('ops', 'accounts:read accounts:write');
  const received = rpServer.logoutTokens().length;

  const answer = await admin('POST', `/admin/accounts/${first.sub}/logout`, ops);
  t.is(answer.status, 200);
  t.like(answer.body, { sub: first.sub, sessions_ended: 2, grants_revoked: 2 }, 'two browsers\' sessions, each with its grant to the app');
  for (const { tokens } of [first, second]) {
    for (const token of [tokens.access_token, tokens.refresh_token!]) t.false((await oidc.tokenIntrospection(rp.config, token)).active);
    t.is((await t.throwsAsync<oidc.ResponseBodyError>(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)))?.error, 'invalid_grant');
  }
  const told = await waitForLogoutTokens(received, 2);
  t.deepEqual(told.map((token) => token.sub), [first.sub, first.sub], 'one logout token per session, each with its sid');
  t.is(new Set(told.map((token) => token.sid)).size, 2);
  t.is((await admin('GET', `/admin/accounts/${first.sub}`, ops)).status, 200, 'the account stays');
  t.is((await admin('POST', `/admin/accounts/${first.sub}/logout`, await toolToken('reader', 'accounts:read'))).status, 403, 'writing takes accounts:write');
  t.is((await admin('POST', '/admin/accounts/no-such-sub/logout', ops)).status, 404);
  t.true(await broker.logged((line) => line.msg === 'signed out everywhere' && (line.privacy as { sub?: string; client?: string }).sub === first.sub
    && (line.privacy as { client?: string }).client === 'ops'));

  const again = await qrLogin(rp, /小爱/);
  await again.context.close();
  t.is(again.sub, first.sub, 'the next login is theirs again');
  const byCli = await accountsCli('logout', first.sub);
  t.is(byCli.status, 0, byCli.stderr);
  t.like(JSON.parse(byCli.stdout), { sub: first.sub, sessions_ended: 1, grants_revoked: 1 });
  t.regex(byCli.stderr, new RegExp(`"client":"cli","action":"logout","target":\\{"sub":"${first.sub}"\\},"outcome":"ok"`));
  t.false((await oidc.tokenIntrospection(rp.config, again.tokens.access_token)).active);
});

test.serial('DELETE …/sessions/<uid> and …/grants/<client>: one browser signed out, one app\'s access taken away, each told; the rest stays', async (t) => {
  const rp = await listeningRp();
  const first = await qrLogin(rp, /小爱/);
  const second = await qrLogin(rp, /小爱/);
  await Promise.all([first.context.close(), second.context.close()]);
  const ops = await toolToken('ops', 'accounts:read accounts:write');
  const exported = await admin('GET', `/admin/accounts/${first.sub}/export`, ops);
  const sessions = (exported.body as { sessions: Array<{ uid: string | null; clients: string[] }> }).sessions;
  const uids = sessions.flatMap((session) => (session.uid && session.clients.includes('listening') ? [session.uid] : []));
  t.is(uids.length, 2, 'the export names each session by its uid');
  const received = rpServer.logoutTokens().length;

  t.is((await admin('DELETE', `/admin/accounts/${first.sub}/sessions/${uids[0]}`, ops)).status, 204);
  t.is((await waitForLogoutTokens(received, 1)).length, 1, 'the app is told of that session only');
  const alive = await Promise.all([first, second].map(async ({ tokens }) => (await oidc.tokenIntrospection(rp.config, tokens.access_token)).active));
  t.deepEqual(alive.sort(), [false, true], 'one browser\'s tokens end, the other\'s work');
  t.is((await admin('DELETE', `/admin/accounts/${first.sub}/sessions/${uids[0]}`, ops)).status, 404, 'it is gone');

  t.is((await admin('DELETE', `/admin/accounts/${first.sub}/grants/listening`, ops)).status, 204);
  for (const { tokens } of [first, second]) t.false((await oidc.tokenIntrospection(rp.config, tokens.access_token)).active);
  t.is((await admin('DELETE', `/admin/accounts/${first.sub}/grants/listening`, ops)).status, 404, 'no access left to take');
  t.is((await admin('GET', `/admin/accounts/${first.sub}`, ops)).status, 200, 'the account stays');
  t.is((await admin('DELETE', `/admin/accounts/${first.sub}/grants/listening`, await toolToken('reader', 'accounts:read'))).status, 403, 'writing takes accounts:write');
  t.true(await broker.logged((line) => line.msg === 'grant revoked' && (line.privacy as { client?: string; by?: string }).by === 'admin'));
  t.true(await broker.logged((line) => line.msg === 'admin call' && (line.admin as { action?: string; target?: Record<string, string> }).action === 'revoke'
    && (line.admin as { target: Record<string, string> }).target.client === 'listening'), 'the audit line names the app taken away, as the path gave it');
  t.true(await broker.logged((line) => line.msg === 'admin call' && (line.admin as { target?: Record<string, string> }).target?.uid === uids[0]), 'and the session');
});

test.serial('DELETE …/identities/<appid>: the identity logs in as a new account; the only identity cannot be unlinked', async (t) => {
  const rp = await listeningRp();
  const byQr = await qrLogin(rp, /Bob/);
  await byQr.context.close();
  const inWeChat = await loginInWeChat(browser, rp, broker.simulator, 'bob', { allow: true });
  t.is(inWeChat.claims.sub, byQr.sub, 'one person through both apps (unionid)');
  const ops = await toolToken('ops', 'accounts:read accounts:write');
  const account = (await admin('GET', `/admin/accounts/${byQr.sub}`, ops)).body as { identities: Array<{ app: string; appid: string }> };
  const mp = account.identities.find((identity) => identity.app === 'mp')!;
  const open = account.identities.find((identity) => identity.app === 'open')!;
  const unlinked = await admin('DELETE', `/admin/accounts/${byQr.sub}/identities/${mp.appid}`, ops);
  t.is(unlinked.status, 200);
  t.deepEqual((unlinked.body as { identities: Array<{ app: string }> }).identities.map((identity) => identity.app), ['open']);
  t.like(unlinked.body, { unlinked_identities: [{ app: 'mp', appid: mp.appid }] });
  // Bob allowed snsapi_userinfo for this Official Account before: WeChat does not ask again.
  const alone = await loginInWeChat(browser, rp, broker.simulator, 'bob');
  t.not(alone.claims.sub, byQr.sub, 'the unlinked identity is an account of its own');
  t.is(alone.userinfo.wechat_unionid, undefined, 'without the unionid, which stays with the account it was on');
  t.is((await loginInWeChat(browser, rp, broker.simulator, 'bob')).claims.sub, alone.claims.sub);
  const last = await admin('DELETE', `/admin/accounts/${byQr.sub}/identities/${open.appid}`, ops);
  t.is(last.status, 409);
  t.regex(String(last.body?.error_description), /only identity/);
  t.is((await admin('DELETE', `/admin/accounts/${byQr.sub}/identities/wx0000000000000000`, ops)).status, 404);
});

test.serial('writing takes accounts:write: no token 401, a read-only tool 403, never a 5xx', async (t) => {
  const rp = await listeningRp();
  const { context, sub } = await qrLogin(rp, /Alice/);
  await context.close();
  const none = await fetch(`${broker.issuer}/admin/accounts/${sub}`, { method: 'DELETE' });
  t.is(none.status, 401);
  t.regex(String(none.headers.get('www-authenticate')), /^Bearer/);
  const reader = await admin('DELETE', `/admin/accounts/${sub}`, await toolToken('reader', 'accounts:read'));
  t.is(reader.status, 403);
  t.like(reader.body, { error: 'insufficient_scope' });
  t.is((await admin('GET', `/admin/accounts/${sub}`, await toolToken('reader', 'accounts:read'))).status, 200, 'the account is still there');
  const ops = await toolToken('ops', 'accounts:read accounts:write');
  t.is((await admin('DELETE', '/admin/accounts/%00%ff', ops)).status, 404);
  t.is((await admin('DELETE', `/admin/accounts/${'x'.repeat(300)}/identities/x`, ops)).status, 404);
});

async function logout(page: Page, rp: Rp, idToken: string): Promise<void> {
  await page.goto(oidc.buildEndSessionUrl(rp.config, { id_token_hint: idToken, post_logout_redirect_uri: rpServer.loggedOut }).href);
  await page.getByRole('button', { name: 'Log out of all apps' }).click();
  await page.waitForURL((url) => url.href.startsWith(rpServer.loggedOut));
}

test.serial('a logout is not held up by an RP that does not answer, and an RP that fails once is told again', async (t) => {
  const rp = await listeningRp();
  const { context, page, tokens, sub } = await qrLogin(rp, /Alice/);
  const received = rpServer.logoutTokens().length;
  const release = rpServer.hold();
  rpServer.failNext(1);
  await logout(page, rp, tokens.id_token!);
  t.is(rpServer.logoutTokens().length, received, 'the person is back at the RP while the delivery still waits');
  release();
  const [delivered] = await waitForLogoutTokens(received, 1);
  t.is(delivered?.sub, sub);
  t.is(delivered?.sid, tokens.claims()!.sid, 'the sid of the ID token the RP holds');
  t.true(await broker.logged((line) => line.msg === 'back-channel logout not delivered: will try again' && line.client === 'listening'));
  t.true(await broker.logged((line) => line.msg === 'back-channel logout delivered' && line.client === 'listening' && line.attempt === 2));
  t.regex(await (await fetch(`${broker.origin}/metrics`)).text(), /broker_backchannel_logouts_total\{outcome="delivered"\} \d+/);
  await context.close();
});

const accountsCli = (...args: string[]) => cli({ REDIS_URL: redis.url, WECHAT_SIMULATOR_PORT: '0' }, ...args);

test.serial('the accounts CLI erases, unlinks, suspends (for a time), lists the suspended and reinstates through the same code, audited on stderr', async (t) => {
  const rp = await listeningRp();
  const byQr = await qrLogin(rp, /陈大文/);
  await byQr.context.close();
  await loginInWeChat(browser, rp, broker.simulator, 'chen', { allow: true });
  const shown = JSON.parse((await accountsCli('show', byQr.sub)).stdout) as { identities: Array<{ appid: string }> };
  const [first] = shown.identities;
  const unlinked = await accountsCli('unlink', byQr.sub, '--appid', first!.appid);
  t.is(unlinked.status, 0, unlinked.stderr);
  t.is((JSON.parse(unlinked.stdout) as { identities: unknown[] }).identities.length, shown.identities.length - 1);
  t.regex(unlinked.stderr, new RegExp(`"client":"cli","action":"unlink","target":\\{"sub":"${byQr.sub}","appid":"${first!.appid}"\\},"outcome":"ok"`));
  t.is((await accountsCli('unlink', byQr.sub)).status, 2, 'unlink names the app');
  const exported = JSON.parse((await accountsCli('export', byQr.sub)).stdout) as { grants: Array<{ client: string }>; sessions: unknown[] };
  t.true(exported.grants.some((grant) => grant.client === 'listening'), 'the export lists the grants');
  t.is((await accountsCli('suspend', byQr.sub)).status, 2, 'a suspension needs a reason');
  t.is((await accountsCli('suspend', byQr.sub, '--reason', '')).status, 2);
  t.is((await accountsCli('suspend', byQr.sub, '--reason', 'x', '--until', '2020-01-01T00:00:00Z')).status, 2, 'an end to come');
  const suspended = await accountsCli('suspend', byQr.sub, '--reason', 'account takeover reported', '--until', '2099-01-31T00:00:00+08:00');
  t.is(suspended.status, 0, suspended.stderr);
  t.like(JSON.parse(suspended.stdout), { suspended: { by: 'cli', reason: 'account takeover reported', until: '2099-01-30T16:00:00.000Z' } });
  const listed = await accountsCli('suspended');
  t.like((JSON.parse(listed.stdout) as { suspended: Array<{ sub: string }> }).suspended.find((entry) => entry.sub === byQr.sub), { reason: 'account takeover reported', until: '2099-01-30T16:00:00.000Z' });
  t.regex(listed.stderr, /"client":"cli","action":"suspensions","target":\{\},"outcome":"ok"/);
  t.regex(suspended.stderr, new RegExp(`"client":"cli","action":"suspend","target":\\{"sub":"${byQr.sub}"\\},"outcome":"ok"`), 'the reason is the account\'s, not the audit target\'s');
  t.like(JSON.parse((await accountsCli('reinstate', byQr.sub)).stdout), { suspended: null });
  const accesses = (JSON.parse((await accountsCli('accesses', byQr.sub)).stdout) as { accesses: Array<{ action: string; by: string; who: string | null }> }).accesses;
  t.true(accesses.every((access) => access.who === null), 'at a shell there is no who');
  t.deepEqual(accesses.slice(0, 3).map(({ action, by }) => `${by}:${action}`), ['cli:reinstate', 'cli:suspend', 'cli:export'], 'kept for the person\'s page, newest first');
  const logins = (JSON.parse((await accountsCli('logins', byQr.sub)).stdout) as { logins: Array<{ device: string | null }> }).logins;
  t.deepEqual(logins.slice(0, 2).map((login) => login.device), ['WeChat · iOS', 'Chrome · Linux'], 'the person\'s recent logins, newest first, where each completed');
  const erased = await accountsCli('delete', byQr.sub);
  t.is(erased.status, 0, erased.stderr);
  t.regex(erased.stderr, new RegExp(`"client":"cli","action":"delete","target":\\{"sub":"${byQr.sub}"\\},"outcome":"ok"`));
  t.is((await accountsCli('show', byQr.sub)).status, 2);
});

// The suite above runs on Redis; the same calls on the memory store (dev mode's default),
// and on MongoDB when MONGODB_URI names one (a replica set), else reported as skipped.
const MONGODB_URI = process.env.MONGODB_URI;
const otherStores: Array<[string, Record<string, string>]> = [['memory', {}], ...(MONGODB_URI ? [['MongoDB', { MONGODB_URI }] as [string, Record<string, string>]] : [])];
if (!MONGODB_URI) test.skip('MongoDB: the same export, unlink and erasure (skipped: MONGODB_URI is not set)', () => {});

for (const [store, env] of otherStores) test.serial(`${store}: the same lookup, export, unlink refusal and erasure; the erased person's tokens refused`, async (t) => {
  const other = await startBroker({
    ...env,
    WECHAT_QR_MODE: 'redirect',
    CLIENTS_FILE: writeClientsFile([...testClients(rpServer.origin), tool('ops', 'accounts:read accounts:write')]),
  });
  t.teardown(() => other.stop());
  const rp = await createRp(other.issuer, rpServer);
  const { url, check } = await rp.start();
  const { landed } = await qrLoginByFetch(url, { issuer: other.issuer, direct: other.origin }, other.simulator, 'alice');
  const tokens = await rp.finish(new URL(landed), check);
  const sub = tokens.claims()!.sub;
  const config = await oidc.discovery(new URL(other.issuer), 'ops', SECRET('ops'), undefined, { execute: [oidc.allowInsecureRequests] });
  const ops = (await oidc.clientCredentialsGrant(config, { scope: 'accounts:read accounts:write' })).access_token;
  const call = async (method: string, path: string) => {
    const response = await fetch(`${other.issuer}${path}`, { method, headers: { authorization: `Bearer ${ops}` } });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
  };
  const unionid = String((await oidc.fetchUserInfo(rp.config, tokens.access_token, sub)).wechat_unionid);
  t.like((await call('GET', `/admin/accounts?unionid=${unionid}`)).body, { sub });
  const exported = await call('GET', `/admin/accounts/${sub}/export`);
  t.like(exported.body, { account: { sub } });
  t.true((exported.body!.grants as Array<{ client: string }>).some((grant) => grant.client === 'first-party'));
  t.true((exported.body!.sessions as unknown[]).length >= 1);
  const appid = (exported.body!.account as { identities: Array<{ appid: string }> }).identities[0]!.appid;
  t.is((await call('DELETE', `/admin/accounts/${sub}/identities/${appid}`)).status, 409, 'the only identity');
  t.is((await call('DELETE', `/admin/accounts/${sub}`)).status, 204);
  t.is((await call('GET', `/admin/accounts/${sub}`)).status, 404);
  await t.throwsAsync(oidc.fetchUserInfo(rp.config, tokens.access_token, sub));
  t.false((await oidc.tokenIntrospection(rp.config, tokens.access_token)).active);
  t.is((await call('GET', `/admin/accounts?unionid=${unionid}`)).status, 404);
});
