// Mini program login by token exchange (RFC 8693): a js_code from wx.login() becomes a
// standard token response with the same `sub` as the person's web logins; a mini program
// openid-only account is linked when WeChat later gives its unionid; every WeChat refusal is
// a standard OAuth error (never a 5xx); the session_key never leaves the broker.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { startBroker, TEST_API, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { launchChromium } from '../helpers/browser.ts';
import { exchange, heldFor, JS_CODE, miniProgramClient, OPS_CLIENT, rawExchange, TOKEN_EXCHANGE, wxLogin } from '../helpers/mini-program.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer, type RpServer } from '../helpers/rp-server.ts';
import { addCallbackHost, injectFaults, simApp, startTestSimulator } from '../helpers/simulator.ts';
import { loginByQr, startQrLogin } from '../helpers/wechat.ts';
import { newPerson } from '../helpers/browser.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { tempDir } from '../helpers/temp.ts';

const mini = simApp('miniprogram');
// The company's API among the test clients (oidc/api-resources.ts), which the mini programs call.
const ORDERS = TEST_API;
const lateMini = simApp('miniprogram', false);
const web = simApp('open');
let browser: Browser;
let rpServer: RpServer;
let simulator: RunningSimulator;
let broker: RunningBroker;

test.before(async () => {
  [browser, rpServer, simulator] = await Promise.all([launchChromium(), startRpServer(), startTestSimulator([mini, lateMini, web])]);
  const dir = tempDir('broker-mini');
  const appsFile = join(dir, 'apps.json');
  writeFileSync(appsFile, JSON.stringify([
    { id: 'web', kind: 'open', appid: web.appid, secret_env: 'WEB_SECRET' },
    { id: 'mini', kind: 'miniprogram', appid: mini.appid, secret_env: 'MINI_SECRET', name: '商城小程序' },
    { id: 'late-mini', kind: 'miniprogram', appid: lateMini.appid, secret_env: 'LATE_MINI_SECRET' },
  ]));
  const exchangeClient = (id: string, apps: string[]) => ({
    client_id: id, token_endpoint_auth_method: 'none', grant_types: [TOKEN_EXCHANGE, 'refresh_token'], response_types: [], wechat_apps: apps,
    scope: 'openid profile wechat offline_access', first_party: true, ...(id === 'mini' ? { resources: [ORDERS] } : {}),
  });
  // Another company's mini program, which also logs people in on the web (where the consent page asks them).
  const thirdParty = {
    client_id: 'partner-mini', client_name: 'Partner Mini', token_endpoint_auth_method: 'none', grant_types: [TOKEN_EXCHANGE, 'refresh_token', 'authorization_code'],
    response_types: ['code'], redirect_uris: [rpServer.callback], wechat_apps: ['mini', 'web'], scope: 'openid profile wechat offline_access', resources: [ORDERS],
  };

  broker = await startBroker({
    CLIENTS_FILE: writeClientsFile([...testClients(rpServer.origin), exchangeClient('mini', ['mini']), exchangeClient('late-mini', ['late-mini']), exchangeClient('no-mini', ['web']), thirdParty, OPS_CLIENT]),
    WECHAT_APPS_FILE: appsFile, WEB_SECRET: web.secret, MINI_SECRET: mini.secret, LATE_MINI_SECRET: lateMini.secret,
    WECHAT_CONNECT_URL: simulator.url, WECHAT_API_URL: simulator.url, WECHAT_LOGIN_JS_URL: simulator.loginJsUrl,
  });
  await addCallbackHost(simulator.url, new URL(broker.issuer).host);
});
test.after.always(async () => {
  await Promise.all([browser?.close(), broker?.stop(), simulator?.close(), rpServer?.close()]);
});

test.serial('discovery offers the grant; a js_code becomes an RFC 8693 token response: the same sub as the person\'s QR login, amr says mini program', async (t) => {
  const discovery = await (await fetch(`${broker.issuer}/.well-known/openid-configuration`)).json() as { grant_types_supported: string[] };
  t.true(discovery.grant_types_supported.includes(TOKEN_EXCHANGE));
  const client = await miniProgramClient(broker.issuer, 'mini');
  const tokens = await exchange(client, await wxLogin(simulator.url, mini.appid, 'alice'), 'openid profile wechat offline_access');
  t.is(tokens.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
  t.is(tokens.token_type, 'bearer');
  t.true(Number(tokens.expires_in) > 0);
  t.truthy(tokens.refresh_token, 'offline_access granted');
  const claims = tokens.claims()!;
  t.deepEqual(claims.amr, ['wechat_miniprogram']);
  const userinfo = await oidc.fetchUserInfo(client, tokens.access_token, claims.sub);
  t.regex(String(userinfo.wechat_openid), /^o/);
  t.truthy(userinfo.wechat_unionid);
  const viaQr = await loginByQr(browser, await createRp(broker.issuer, rpServer), /Alice/);
  t.is(viaQr.claims.sub, claims.sub, 'one person, one sub');
  t.not(viaQr.userinfo.wechat_openid, userinfo.wechat_openid, 'each login\'s openid is its app\'s');
  const refreshed = await oidc.refreshTokenGrant(client, tokens.refresh_token!);
  t.is(refreshed.claims()?.sub, claims.sub, 'the refresh token works like any other');
  t.false(broker.output().includes('session_key'), 'the session_key is never logged');
  t.regex(broker.output(), new RegExp(`mini: mini program \\(token exchange\\) ${mini.appid}`), 'the banner says what the app is');
});

test.serial('a mini program that is not first-party gets only what the person granted it: openid alone at first, the rest once they consented', async (t) => {
  const client = await miniProgramClient(broker.issuer, 'partner-mini');
  const asked = 'openid profile wechat offline_access';
  const first = await exchange(client, await wxLogin(simulator.url, mini.appid, 'bob'), asked);
  t.is(first.scope, 'openid', 'the response says what was issued');
  t.is(first.refresh_token, undefined, 'no offline access without consent');
  const sub = first.claims()!.sub;
  const bare = await oidc.fetchUserInfo(client, first.access_token, sub);
  t.deepEqual(Object.keys(bare).sort(), ['sub'], 'no nickname, picture, unionid or openid learned from earlier logins');
  // Bob consents on the web for this client (the consent page of a browser login).
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  const rp = await createRp(broker.issuer, rpServer, 'partner-mini');
  const check = await startQrLogin(page, rp, { scope: asked, prompt: 'consent' }, /Bob/);
  await page.getByRole('button', { name: /Allow/ }).click();
  t.is((await rp.finish(await rp.landed(page), check)).claims()?.sub, sub);
  const after = await exchange(client, await wxLogin(simulator.url, mini.appid, 'bob'), asked);
  t.is(after.scope, asked);
  t.truthy(after.refresh_token);
  const full = await oidc.fetchUserInfo(client, after.access_token, sub);
  t.truthy(full.nickname);
  t.truthy(full.wechat_unionid);
  // Somebody who never consented to this client still gets openid alone.
  t.is((await exchange(client, await wxLogin(simulator.url, mini.appid, 'chen'), asked)).scope, 'openid');
});

test.serial('a mini program exchanging at every launch keeps one session and one grant for the person, each launch\'s tokens working', async (t) => {
  const client = await miniProgramClient(broker.issuer, 'mini');
  const launch = async (scope: string) => exchange(client, await wxLogin(simulator.url, mini.appid, 'person-27'), scope);
  const launches = [await launch('openid offline_access'), await launch('openid offline_access'), await launch('openid profile offline_access')];
  const sub = launches[0]!.claims()!.sub;
  const held = await heldFor(broker.issuer, sub);
  t.is(held.sessions.length, 1, 'one session for three launches');
  t.is(Date.parse(held.sessions[0]!.logged_in_at) / 1000, Number(launches[2]!.claims()!.auth_time), 'the session says when the latest launch logged in');
  t.deepEqual(held.grants.map((grant) => [grant.client, grant.scope.split(' ').sort().join(' ')]), [['mini', 'offline_access openid profile']], 'one grant, with what each launch asked');
  for (const tokens of launches) t.is((await oidc.fetchUserInfo(client, tokens.access_token, sub)).sub, sub, 'each launch\'s access token works');
  const rotated = await Promise.all(launches.map((tokens) => oidc.refreshTokenGrant(client, tokens.refresh_token!)));
  t.true(rotated.every((tokens) => tokens.claims()?.sub === sub), 'each launch\'s refresh token works');
  // A refresh token used twice revokes its grant (oidc-provider's rotation), with every launch's tokens: the next launch logs in again, in the same session.
  t.like(await t.throwsAsync(oidc.refreshTokenGrant(client, launches[0]!.refresh_token!)), { error: 'invalid_grant' });
  await t.throwsAsync(oidc.fetchUserInfo(client, rotated[1]!.access_token, sub));
  const next = await launch('openid offline_access');
  t.is((await oidc.refreshTokenGrant(client, next.refresh_token!)).claims()?.sub, sub);
  const after = await heldFor(broker.issuer, sub);
  t.is(after.sessions.length, 1, 'still one session');
  t.deepEqual(after.grants.map((grant) => grant.scope), ['openid offline_access'], 'a new grant, with what the new launch asked');
  // Another person's launches keep their own.
  const other = await exchange(client, await wxLogin(simulator.url, mini.appid, 'person-28'), 'openid');
  t.is((await heldFor(broker.issuer, other.claims()!.sub)).sessions.length, 1);
  t.is((await heldFor(broker.issuer, sub)).sessions.length, 1, 'and the first person keeps theirs');
});

test.serial('the person\'s page lists the mini program\'s logins by the app\'s name, not as a browser, with a way to log it out', async (t) => {
  const client = await miniProgramClient(broker.issuer, 'mini');
  await exchange(client, await wxLogin(simulator.url, mini.appid, 'bob'), 'openid');
  const { context, page } = await newPerson(browser, 'desktop', 'en');
  t.teardown(() => context.close());
  await page.goto(`${broker.issuer}/account`);
  // Only WeChat apps here: /account goes straight to the QR login.
  await page.frameLocator('#qr iframe').getByRole('button', { name: /Bob/ }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  const items = await page.locator('section li').allInnerTexts();
  t.true(items.some((item) => /^mini\nLogged in /.test(item)), items.join(' | '));
  t.false(items.some((item) => /^a browser/.test(item) && item.includes('Apps: mini')), 'never a browser');
  await page.getByRole('button', { name: /^Log out mini \(logged in / }).click();
  await page.getByRole('status').filter({ hasText: 'That device is logged out' }).waitFor();
  t.false((await page.locator('section li').allInnerTexts()).some((item) => /^mini\n/.test(item)));
});

test.serial('audience and resource may only name the broker: anything else is invalid_target (RFC 8693 2.2.2)', async (t) => {
  const code = async () => wxLogin(simulator.url, mini.appid, 'alice');
  const base = { client_id: 'mini', subject_token_type: JS_CODE, scope: 'openid' };
  t.like(await rawExchange(broker.issuer, { ...base, subject_token: await code(), audience: 'third-party' }), { status: 400, body: { error: 'invalid_target' } });
  t.like(await rawExchange(broker.issuer, { ...base, subject_token: await code(), resource: 'https://api.example.com/' }), { status: 400, body: { error: 'invalid_target' } });
  t.like(await rawExchange(broker.issuer, { ...base, subject_token: await code(), audience: broker.issuer }), { status: 200 });
  t.like(await rawExchange(broker.issuer, { ...base, subject_token: await code(), resource: `${broker.issuer}/me` }), { status: 200 });
});

test.serial('an openid-only mini program account is linked once WeChat gives the unionid', async (t) => {
  const client = await miniProgramClient(broker.issuer, 'late-mini');
  const before = (await exchange(client, await wxLogin(simulator.url, lateMini.appid, 'chen'), 'openid')).claims()!.sub;
  const viaQr = await loginByQr(browser, await createRp(broker.issuer, rpServer), /陈大文/);
  t.not(before, viaQr.claims.sub, 'no unionid yet: WeChat gave nothing to link by');
  // The operator binds the mini program to the Open Platform account.
  await fetch(`${simulator.url}/_sim/apps/bind`, { method: 'POST', body: JSON.stringify({ appid: lateMini.appid }) });
  const after = (await exchange(client, await wxLogin(simulator.url, lateMini.appid, 'chen'), 'openid')).claims()!.sub;
  const again = await loginByQr(browser, await createRp(broker.issuer, rpServer), /陈大文/);
  t.is(after, again.claims.sub, 'the mini program identity and the QR identity are one person now');
});

test.serial('refusals are standard OAuth errors, never a 5xx: a reused or bad code, a blocked user, limits, a client without a mini program, wrong credentials', async (t) => {
  const code = await wxLogin(simulator.url, mini.appid, 'bob');
  const ask = (body: Record<string, string>) => rawExchange(broker.issuer, { client_id: 'mini', subject_token_type: JS_CODE, ...body });
  t.is((await ask({ subject_token: code })).status, 200);
  t.like(await ask({ subject_token: code }), { status: 400, body: { error: 'invalid_request', error_description: 'the js_code is invalid, expired or already used' } });
  t.like(await ask({ subject_token: 'not a code' }), { status: 400, body: { error: 'invalid_request' } });
  t.like(await ask({ subject_token: 'x', subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' }), { status: 400, body: { error: 'invalid_request' } });
  t.like(await rawExchange(broker.issuer, { client_id: 'no-mini', subject_token: 'x', subject_token_type: JS_CODE }), { status: 400, body: { error: 'unauthorized_client' } });
  // A client without the grant in its grant_types: oidc-provider's own answer.
  t.like(await rawExchange(broker.issuer, { client_id: 'spa', subject_token: 'x', subject_token_type: JS_CODE }), {
    status: 400, body: { error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' },
  });
  t.like(await ask({ subject_token: await wxLogin(simulator.url, mini.appid, 'bob'), scope: 'openid admin' }), { status: 400, body: { error: 'invalid_scope' } });
  await injectFaults(simulator.url, '/sns/jscode2session', ['errcode:40226', 'errcode:45011', 'errcode:40125']);
  const blocked = await ask({ subject_token: await wxLogin(simulator.url, mini.appid, 'bob') });
  t.like(blocked, { status: 400, body: { error: 'invalid_request' } });
  t.regex(String(blocked.body.error_description), /high-risk/);
  t.like(await ask({ subject_token: await wxLogin(simulator.url, mini.appid, 'bob') }), { status: 400, body: { error: 'temporarily_unavailable' } });
  t.like(await ask({ subject_token: await wxLogin(simulator.url, mini.appid, 'bob') }), { status: 400, body: { error: 'server_error' } });
  t.true(await broker.logged((line) => /mini program login: WeChat refused the app credentials: check WECHAT_APPS_FILE \(app mini\)/.test(String(line.msg))));
});

test.serial('a mini program asks a token for the company\'s API: a JWT for that API alone (RFC 8707, 9068); a refresh gives the next; another company\'s needs the person\'s consent first', async (t) => {
  const client = await miniProgramClient(broker.issuer, 'mini');
  const tokens = await oidc.genericGrantRequest(client, TOKEN_EXCHANGE, {
    subject_token: await wxLogin(simulator.url, mini.appid, 'alice'), subject_token_type: JS_CODE, scope: 'openid offline_access orders:read', resource: ORDERS,
  });
  const jwks = createRemoteJWKSet(new URL(`${broker.issuer}/jwks`));
  const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: broker.issuer, audience: ORDERS, typ: 'at+jwt' });
  t.like(payload, { sub: tokens.claims()?.sub, client_id: 'mini', scope: 'orders:read' });
  t.is(tokens.scope, 'orders:read', 'the access token\'s scope');
  const next = await oidc.refreshTokenGrant(client, tokens.refresh_token!);
  t.like((await jwtVerify(next.access_token, jwks, { issuer: broker.issuer, audience: ORDERS, typ: 'at+jwt' })).payload, { scope: 'orders:read' });

  const partner = await rawExchange(broker.issuer, {
    client_id: 'partner-mini', subject_token: await wxLogin(simulator.url, mini.appid, 'alice'), subject_token_type: JS_CODE, scope: 'openid orders:read', resource: ORDERS,
  });
  t.like(partner, { status: 400, body: { error: 'invalid_scope' } }, 'no page on this path to ask: a login in a browser asks first');
  const unlisted = await rawExchange(broker.issuer, {
    client_id: 'late-mini', subject_token: await wxLogin(simulator.url, lateMini.appid, 'alice'), subject_token_type: JS_CODE, scope: 'openid orders:read', resource: ORDERS,
  });
  t.like(unlisted, { status: 400, body: { error: 'invalid_target' } }, 'a client that does not list the API');
  const jsCode = await wxLogin(simulator.url, mini.appid, 'alice');
  const none = await rawExchange(broker.issuer, { client_id: 'mini', subject_token: jsCode, subject_token_type: JS_CODE, scope: 'openid', resource: ORDERS });
  t.like(none, { status: 400, body: { error: 'invalid_scope' } }, 'a token for the API with none of its scopes');
  t.like(await rawExchange(broker.issuer, { client_id: 'mini', subject_token: jsCode, subject_token_type: JS_CODE, scope: 'openid' }), { status: 200 }, 'refused before the js_code was spent');
});
