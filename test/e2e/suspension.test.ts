// An operator suspends a person (fraud, abuse, a compromised WeChat account) through the
// admin API: they are signed out everywhere (their apps told), their tokens stop working,
// and every way in refuses them (a page in their language; a mini program's exchange gets
// invalid_grant) until an operator reinstates them, with the same `sub`. Audited. On Redis,
// to reach behind the broker: a session the suspension did not end (the moment between)
// leads to a login again, never to the suspended account.

import test from 'ava';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { callbackOf, cookieJar, follow } from '../helpers/fetch-login.ts';
import { exchange, miniProgramClient, rawExchange, JS_CODE, TOKEN_EXCHANGE, wxLogin } from '../helpers/mini-program.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { addCallbackHost, issueCode, simApp, startTestSimulator } from '../helpers/simulator.ts';
import { tempDir } from '../helpers/temp.ts';
import { until } from '../helpers/wait.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';

const mini = simApp('miniprogram');
const web = simApp('open');
const SECRET = (id: string) => `${id}-secret-0123456789abcdef0123456789`;
const tool = (id: string, scope: string) => ({ client_id: id, client_secret: SECRET(id), grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope });

let rpServer: RpServer;
let simulator: RunningSimulator;
let redis: RedisServer;
let broker: RunningBroker;

test.before(async () => {
  [rpServer, simulator, redis] = await Promise.all([startRpServer(), startTestSimulator([mini, web]), startRedis()]);
  const listening = {
    client_id: 'listening', client_secret: SECRET('listening'), first_party: true, redirect_uris: [rpServer.callback], grant_types: ['authorization_code'],
    backchannel_logout_uri: rpServer.backchannel, security_events_uri: rpServer.securityEvents,
  };
  const miniClient = {
    client_id: 'mini', token_endpoint_auth_method: 'none', grant_types: [TOKEN_EXCHANGE, 'refresh_token'], response_types: [], wechat_apps: ['mini'],
    scope: 'openid profile offline_access', first_party: true,
  };
  const appsFile = join(tempDir('broker-suspension'), 'apps.json');
  writeFileSync(appsFile, JSON.stringify([
    { id: 'web', kind: 'open', appid: web.appid, secret_env: 'WEB_SECRET' },
    { id: 'mini', kind: 'miniprogram', appid: mini.appid, secret_env: 'MINI_SECRET' },
  ]));
  broker = await startBroker({
    WECHAT_APPS_FILE: appsFile, WEB_SECRET: web.secret, MINI_SECRET: mini.secret, REDIS_URL: redis.url, WECHAT_QR_MODE: 'redirect',
    WECHAT_CONNECT_URL: simulator.url, WECHAT_API_URL: simulator.url, WECHAT_LOGIN_JS_URL: simulator.loginJsUrl,
    CLIENTS_FILE: writeClientsFile([...testClients(rpServer.origin), listening, miniClient, tool('ops', 'accounts:read accounts:write'), tool('reader', 'accounts:read')]),
  });
  await addCallbackHost(simulator.url, new URL(broker.issuer).host);
});
test.after.always(async () => {
  await Promise.all([broker?.stop(), simulator?.close(), rpServer?.close()]);
  await redis?.stop();
});

async function toolToken(id: string): Promise<string> {
  const config = await oidc.discovery(new URL(broker.issuer), id, SECRET(id), undefined, { execute: [oidc.allowInsecureRequests] });
  return (await oidc.clientCredentialsGrant(config, { scope: id === 'ops' ? 'accounts:read accounts:write' : 'accounts:read' })).access_token;
}

async function admin(method: string, path: string, token: string, body?: string, contentType = 'application/json') {
  const response = await fetch(`${broker.issuer}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': contentType }) }, body });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
}

/** A QR login of `user` at the client `listening`, by fetch, up to where the broker's answers stop: the RP's callback, or a page of the broker's. */
async function qrLogin(user: string, jar = cookieJar()) {
  const rp = await createRp(broker.issuer, rpServer, 'listening', SECRET('listening'));
  const { url, check } = await rp.start();
  const target = { issuer: broker.issuer, direct: broker.origin };
  const wechat = new URL((await follow(url, jar, target)).url);
  const code = await issueCode(simulator.url, wechat.searchParams.get('appid')!, user, 'snsapi_login');
  const callback = await follow(callbackOf(wechat, code).href, jar, target);
  const next = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(await callback.response.clone().text())?.[1]?.replaceAll('&amp;', '&');
  const landed = next ? await follow(next, jar, target) : callback;
  return { rp, check, landed, jar };
}

test.serial('suspended through the admin API: signed out everywhere, tokens refused, every way in refused with a page or invalid_grant; reinstated, the same sub logs in again; audited', async (t) => {
  const client = await miniProgramClient(broker.issuer, 'mini');
  const minis = await exchange(client, await wxLogin(simulator.url, mini.appid, 'alice'), 'openid profile offline_access');
  const sub = minis.claims()!.sub;
  const { rp, check, landed } = await qrLogin('alice');
  const web = await rp.finish(new URL(landed.url), check);
  t.is(web.claims()!.sub, sub, 'one person: the mini program and the web login');

  const [ops, reader] = await Promise.all([toolToken('ops'), toolToken('reader')]);
  t.is((await admin('PUT', `/admin/accounts/${sub}/suspension`, reader, '{"reason":"fraud"}')).status, 403, 'reading is not suspending');
  t.like(await admin('PUT', `/admin/accounts/${sub}/suspension`, ops), { status: 400, body: { error: 'invalid_request' } }, 'a reason is required');
  t.is((await admin('PUT', `/admin/accounts/${sub}/suspension`, ops, '{"reason":"  "}')).status, 400);
  t.is((await admin('PUT', `/admin/accounts/${sub}/suspension`, ops, 'reason=fraud', 'application/x-www-form-urlencoded')).status, 400);
  t.is((await admin('PUT', `/admin/accounts/${sub}/suspension`, ops, '{"reason":"a\\nb"}')).status, 400, 'one line');
  t.is((await admin('PUT', '/admin/accounts/nobody-at-all/suspension', ops, '{"reason":"fraud"}')).status, 404);
  const logoutsBefore = rpServer.logoutTokens().length;
  const eventsBefore = rpServer.securityEventTokens().length;
  const suspended = await admin('PUT', `/admin/accounts/${sub}/suspension`, ops, JSON.stringify({ reason: 'chargeback fraud, ticket 4711' }));
  t.is(suspended.status, 200);
  t.like(suspended.body?.suspended, { by: 'admin:ops', reason: 'chargeback fraud, ticket 4711' });
  t.like((await admin('GET', `/admin/accounts/${sub}`, reader)).body?.suspended, { reason: 'chargeback fraud, ticket 4711' }, 'operators see it');
  const listed = (await admin('GET', '/admin/suspensions', reader)).body?.suspended as Array<Record<string, unknown>>;
  t.like(listed.find((entry) => entry.sub === sub), { by: 'admin:ops', reason: 'chargeback fraud, ticket 4711' }, 'and in the list of suspended accounts');

  // Signed out everywhere: the web app told, every token gone.
  await until('the web app is told of the logout', () => rpServer.logoutTokens().length > logoutsBefore);
  // And, as the company's own app, that the account is disabled (RISC Profile 1.0 2.3).
  await until('the web app is told of the suspension', () => rpServer.securityEventTokens().length > eventsBefore);
  const disabled = (await rpServer.securityEventsSince(eventsBefore, broker.issuer)).get('listening');
  t.like(disabled, { sub_id: { format: 'iss_sub', iss: broker.issuer, sub }, events: { 'https://schemas.openid.net/secevent/risc/event-type/account-disabled': {} } });
  await t.throwsAsync(oidc.fetchUserInfo(client, minis.access_token, sub));
  await t.throwsAsync(oidc.refreshTokenGrant(client, minis.refresh_token!));

  // Every way in refuses: the mini program's exchange, and a QR login (a page of its own, in the person's language).
  const again = await rawExchange(broker.issuer, { client_id: 'mini', subject_token: await wxLogin(simulator.url, mini.appid, 'alice'), subject_token_type: JS_CODE });
  t.like(again, { status: 400, body: { error: 'invalid_grant', error_description: 'the account is suspended' } });
  const refused = await qrLogin('alice');
  t.is(refused.landed.response.status, 403);
  t.regex(await refused.landed.response.text(), /账号已被暂停使用/);
  t.false(refused.landed.url.startsWith(rpServer.callback), 'no code for the app');
  t.true(await broker.logged((line) => line.msg === 'the account is suspended: login refused' && line.account === sub));
  t.true(await broker.logged((line) => line.msg === 'mini program login: the account is suspended: login refused'));
  t.regex(await (await fetch(`${broker.origin}/metrics`)).text(), /broker_logins_total\{channel="[a-z_]+",outcome="suspended"\} [1-9]/);

  // Audited, with who and how much ended; a second suspension replaces the first (its reason and end), and nobody is told again.
  t.like(broker.logs().find((line) => line.msg === 'account suspended'), { privacy: { action: 'suspend', sub, by: 'admin', client: 'ops', sessions: 2 } }, 'the mini program\'s and the browser\'s');
  t.true(broker.logs().some((line) => (line.admin as { action?: string; outcome?: string } | undefined)?.action === 'suspend' && (line.admin as { outcome?: string }).outcome === 'ok'));
  const replaced = await admin('PUT', `/admin/accounts/${sub}/suspension`, ops, '{"reason":"chargeback fraud, ticket 4711: confirmed","until":"2099-06-30T00:00:00Z"}');
  t.like(replaced.body?.suspended, { by: 'admin:ops', reason: 'chargeback fraud, ticket 4711: confirmed', until: '2099-06-30T00:00:00.000Z' });
  t.true(await broker.logged((line) => line.msg === 'suspension replaced' && (line.privacy as { sub?: string } | undefined)?.sub === sub));
  t.is(rpServer.securityEventTokens().length, eventsBefore + 1, 'nobody told again');
  t.like((await rawExchange(broker.issuer, { client_id: 'mini', subject_token: await wxLogin(simulator.url, mini.appid, 'alice'), subject_token_type: JS_CODE })).body, { error_description: 'the account is suspended until 2099-06-30T00:00:00.000Z' }, 'still suspended');

  // Reinstated: the same sub, everywhere.
  const reinstated = await admin('DELETE', `/admin/accounts/${sub}/suspension`, ops);
  t.like(reinstated, { status: 200, body: { sub, suspended: null } });
  t.false(((await admin('GET', '/admin/suspensions', reader)).body?.suspended as Array<{ sub: string }>).some((entry) => entry.sub === sub), 'no longer listed');
  await until('the web app is told of the reinstatement', () => rpServer.securityEventTokens().length > eventsBefore + 1);
  const enabled = (await rpServer.securityEventsSince(eventsBefore + 1, broker.issuer)).get('listening');
  t.like(enabled, { sub_id: { sub }, events: { 'https://schemas.openid.net/secevent/risc/event-type/account-enabled': {} } });
  t.is((await exchange(client, await wxLogin(simulator.url, mini.appid, 'alice'), 'openid')).claims()!.sub, sub);
  const back = await qrLogin('alice');
  t.is((await back.rp.finish(new URL(back.landed.url), back.check)).claims()!.sub, sub);
  t.true(await broker.logged((line) => line.msg === 'account reinstated'));
  // What the operators did is in the person's export (and on their page), newest first; a refused call is not.
  const exported = await admin('GET', `/admin/accounts/${sub}/export`, reader);
  const kept = exported.body?.operator_accesses as Array<{ action: string; by: string }>;
  t.false(JSON.stringify(kept).includes('"who"'), 'which client or operator is the company\'s, not the export\'s');
  const accesses = kept.map(({ action, by }) => `${by}:${action}`);
  t.deepEqual(accesses.slice(0, 4), ['admin:reinstate', 'admin:suspend', 'admin:show', 'admin:suspend']);
});

test.serial('a session the suspension did not end (written behind the broker\'s back) leads to a login again, and its tokens to nothing', async (t) => {
  const { rp, check, landed, jar } = await qrLogin('bob');
  const tokens = await rp.finish(new URL(landed.url), check);
  const sub = tokens.claims()!.sub;
  // Suspended in the store alone, as in the moment before a suspension ends the sessions.
  const store = new Redis(redis.url);
  t.teardown(() => store.quit());
  const [key] = await store.keys(`*{accounts}:id:${sub}`);
  const account = JSON.parse((await store.get(key!))!) as Record<string, unknown>;
  await store.set(key!, JSON.stringify({ ...account, suspended: { at: Date.now(), by: 'cli', reason: 'test' } }));

  await t.throwsAsync(oidc.fetchUserInfo(rp.config, tokens.access_token, sub), undefined, 'no account behind the token');
  const silent = await rp.start({ prompt: 'none' });
  const answer = await follow(silent.url, jar, { issuer: broker.issuer, direct: broker.origin });
  t.is(new URL(answer.url).searchParams.get('error'), 'login_required', 'single sign-on does not carry a suspended account (OIDC Core 3.1.2.6)');
  const interactive = await rp.start();
  const toLogin = await follow(interactive.url, jar, { issuer: broker.issuer, direct: broker.origin });
  t.not(toLogin.response.status, 500);
  t.false(toLogin.url.startsWith(rpServer.callback), 'a login again, not the old session');
});

test.serial('a suspension with an end: refused until then, not listed or shown once it has ended, lifted at the next login, the apps told', async (t) => {
  const client = await miniProgramClient(broker.issuer, 'mini');
  const sub = (await exchange(client, await wxLogin(simulator.url, mini.appid, 'alice'), 'openid')).claims()!.sub;
  const [ops, reader] = await Promise.all([toolToken('ops'), toolToken('reader')]);
  const suspend = (until: unknown) => admin('PUT', `/admin/accounts/${sub}/suspension`, ops, JSON.stringify({ reason: 'cooling off', until }));
  for (const until of ['2020-01-01T00:00:00Z', '2099-01-01T00:00:00', '2099-02-30T00:00:00Z', 'next week', 20990101, null]) {
    t.like(await suspend(until), { status: 400, body: { error: 'invalid_request' } }, `until ${JSON.stringify(until)}`);
  }
  t.is((await admin('GET', `/admin/accounts/${sub}`, reader)).body?.suspended, null, 'nothing suspended by a refused call');
  const eventsBefore = rpServer.securityEventTokens().length;
  const suspended = await suspend('2099-01-31T00:00:00+08:00');
  t.like(suspended, { status: 200, body: { suspended: { by: 'admin:ops', reason: 'cooling off', until: '2099-01-30T16:00:00.000Z' } } });
  const listed = (await admin('GET', '/admin/suspensions', reader)).body?.suspended as Array<Record<string, unknown>>;
  t.like(listed.find((entry) => entry.sub === sub), { until: '2099-01-30T16:00:00.000Z' });
  const refused = await rawExchange(broker.issuer, { client_id: 'mini', subject_token: await wxLogin(simulator.url, mini.appid, 'alice'), subject_token_type: JS_CODE });
  t.like(refused, { status: 400, body: { error: 'invalid_grant', error_description: 'the account is suspended until 2099-01-30T16:00:00.000Z' } }, 'the app can tell the person when');
  const page = await qrLogin('alice');
  t.is(page.landed.response.status, 403);
  t.regex(await page.landed.response.text(), /你的账号已被暂停使用，2099-01-31 00:00 之前无法登录/, 'the person is told when, in China\'s time');
  await until('the app is told of the suspension', () => rpServer.securityEventTokens().length > eventsBefore);

  // Its end comes (written behind the broker's back: no test waits for a date).
  const store = new Redis(redis.url);
  t.teardown(() => store.quit());
  const [key] = await store.keys(`*{accounts}:id:${sub}`);
  const account = JSON.parse((await store.get(key!))!) as { suspended: Record<string, unknown> };
  await store.set(key!, JSON.stringify({ ...account, suspended: { ...account.suspended, until: Date.now() - 1 } }));
  t.is((await admin('GET', `/admin/accounts/${sub}`, reader)).body?.suspended, null, 'an ended suspension is not shown');
  t.false(((await admin('GET', '/admin/suspensions', reader)).body?.suspended as Array<{ sub: string }>).some((entry) => entry.sub === sub), 'nor listed');
  const back = await exchange(client, await wxLogin(simulator.url, mini.appid, 'alice'), 'openid');
  t.is(back.claims()!.sub, sub, 'the same sub logs in');
  await until('the app is told the account is enabled again', () => rpServer.securityEventTokens().length > eventsBefore + 1);
  const enabled = (await rpServer.securityEventsSince(eventsBefore + 1, broker.issuer)).get('listening');
  t.like(enabled, { sub_id: { sub }, events: { 'https://schemas.openid.net/secevent/risc/event-type/account-enabled': {} } });
  t.true(await broker.logged((line) => line.msg === 'account reinstated: its suspension ended' && (line.privacy as { sub?: string } | undefined)?.sub === sub));
  t.false('suspended' in JSON.parse((await store.get(key!))!), 'lifted in the store');
  await exchange(client, await wxLogin(simulator.url, mini.appid, 'alice'), 'openid');
  t.is(rpServer.securityEventTokens().length, eventsBefore + 2, 'told once');
});

test.serial('hostile suspension bodies (any text, any JSON, any content type): never a 5xx; suspended only for a reason it can keep, exactly as given', async (t) => {
  const sub = (await exchange(await miniProgramClient(broker.issuer, 'mini'), await wxLogin(simulator.url, mini.appid, 'chen'), 'openid')).claims()!.sub;
  const ops = await toolToken('ops');
  const body = fc.oneof(fc.string({ unit: 'binary', maxLength: 700 }), fc.json(), fc.record({ reason: fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), fc.jsonValue()) }).map((value) => JSON.stringify(value)));
  const type = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded');
  await fc.assert(fc.asyncProperty(body, type, async (sent, contentType) => {
    const answer = await admin('PUT', `/admin/accounts/${sub}/suspension`, ops, sent, contentType);
    if (answer.status >= 500 || (answer.status !== 200 && answer.status !== 400)) return false;
    if (answer.status === 400) return answer.body?.error === 'invalid_request';
    const given = (JSON.parse(sent) as { reason: string }).reason;
    const kept = (answer.body?.suspended as { reason: string }).reason;
    const keepable = kept === given.trim() && kept.length > 0 && kept.length <= 500 && !/\p{Cc}/u.test(kept);
    return keepable && (await admin('DELETE', `/admin/accounts/${sub}/suspension`, ops)).status === 200;
  }), { numRuns: 60, seed: 20261206 });
  t.pass('60 hostile bodies');
});
