// A mini program's verified phone number as OIDC's phone claims: the mini program logs the
// person in by token exchange, then sends the code of a tap on its phone-number button to
// POST /account/phone with the access token. openid-client plays the mini program's token
// requests and reads userinfo; the simulator plays WeChat (getuserphonenumber with its
// binding check and watermark). No browser: a mini program has none.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from '../helpers/broker.ts';
import { exchange, miniProgramClient, sendPhoneCode, tapPhoneButton, TOKEN_EXCHANGE, wxLogin } from '../helpers/mini-program.ts';
import { injectFaults, simApp, simCalls, startTestSimulator } from '../helpers/simulator.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { tempDir } from '../helpers/temp.ts';

const mini = simApp('miniprogram');
const otherMini = simApp('miniprogram');
const REDEEM = '/wxa/business/getuserphonenumber';
const OPS_SECRET = 'ops-secret-0123456789abcdef0123456789ab';
let simulator: RunningSimulator;
let broker: RunningBroker;

test.before(async () => {
  simulator = await startTestSimulator([mini, otherMini]);
  const appsFile = join(tempDir('broker-phone'), 'apps.json');
  writeFileSync(appsFile, JSON.stringify([
    { id: 'mini', kind: 'miniprogram', appid: mini.appid, secret_env: 'MINI_SECRET', name: '商城小程序' },
    { id: 'other-mini', kind: 'miniprogram', appid: otherMini.appid, secret_env: 'OTHER_SECRET' },
  ]));
  const exchangeClient = (id: string, apps: string[], scope: string) => ({
    client_id: id, token_endpoint_auth_method: 'none', grant_types: [TOKEN_EXCHANGE], response_types: [], wechat_apps: apps, scope, first_party: true,
  });
  broker = await startBroker({
    CLIENTS_FILE: writeClientsFile([
      ...testClients('http://127.0.0.1:9'), exchangeClient('mini', ['mini'], 'openid phone'), exchangeClient('other-mini', ['other-mini'], 'openid phone'),
      exchangeClient('no-phone', ['mini'], 'openid'),
      { client_id: 'ops', client_secret: OPS_SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'accounts:read accounts:write' },
    ]),
    WECHAT_APPS_FILE: appsFile, MINI_SECRET: mini.secret, OTHER_SECRET: otherMini.secret,
    WECHAT_CONNECT_URL: simulator.url, WECHAT_API_URL: simulator.url, WECHAT_LOGIN_JS_URL: simulator.loginJsUrl,
  });
});
test.after.always(async () => {
  await Promise.all([broker?.stop(), simulator?.close()]);
});

/** `user` logs in to the mini program `clientId` (wx.login, then the token exchange): its tokens. */
async function logIn(user: string, clientId = 'mini', scope = 'openid phone', app = mini.appid) {
  const client = await miniProgramClient(broker.issuer, clientId);
  const tokens = await exchange(client, await wxLogin(simulator.url, app, user), scope);
  return { client, tokens, sub: tokens.claims()!.sub };
}

const redemptions = async () => (await simCalls(simulator.url)).filter((call) => call.path === REDEEM && call.errcode === undefined).length;

async function adminToken(): Promise<string> {
  const ops = await oidc.discovery(new URL(broker.issuer), 'ops', OPS_SECRET, undefined, { execute: [oidc.allowInsecureRequests] });
  return (await oidc.clientCredentialsGrant(ops, { scope: 'accounts:read accounts:write' })).access_token;
}

test.serial('a tap\'s code, as a form or as JSON: the verified number in E.164, then in userinfo as phone_number and phone_number_verified; the admin API shows its source', async (t) => {
  const alice = await logIn('alice');
  const before = await redemptions();
  const answer = await sendPhoneCode(broker.issuer, alice.tokens.access_token, `code=${await tapPhoneButton(simulator.url, mini.appid, 'alice')}`);
  t.deepEqual(answer, { status: 200, headers: answer.headers, body: { phone_number: '+8613912345678', phone_number_verified: true } });
  t.is(answer.headers.get('cache-control'), 'no-store');
  t.like(await oidc.fetchUserInfo(alice.client, alice.tokens.access_token, alice.sub), { phone_number: '+8613912345678', phone_number_verified: true });
  const bob = await logIn('bob');
  const json = await sendPhoneCode(broker.issuer, bob.tokens.access_token, { code: await tapPhoneButton(simulator.url, mini.appid, 'bob') });
  t.like(json, { status: 200, body: { phone_number: '+85261234567', phone_number_verified: true } }, 'a number outside China, with its country code');
  t.is(await redemptions() - before, 2);
  const shown = await (await fetch(`${broker.issuer}/admin/accounts/${alice.sub}`, { headers: { authorization: `Bearer ${await adminToken()}` } })).json() as { contacts: { phone: Record<string, unknown> } };
  t.like(shown.contacts.phone, { value: '+8613912345678', verified: true, source: `wechat-phone:${mini.appid}` });
  t.true(await broker.logged((line) => line.msg === 'phone number stored' && line.account === alice.sub));
  t.false(broker.output().includes('13912345678'), 'the number is never logged');
});

test.serial('the access token, as RFC 6750 says: none (no error code), unknown (invalid_token), without the phone scope (insufficient_scope)', async (t) => {
  const code = await tapPhoneButton(simulator.url, mini.appid, 'alice');
  const none = await sendPhoneCode(broker.issuer, undefined, `code=${code}`);
  t.is(none.status, 401);
  t.is(none.headers.get('www-authenticate'), 'Bearer realm="phone", DPoP realm="phone", algs="ES256 Ed25519 EdDSA"', 'RFC 9449 7.2: either scheme');
  const unknown = await sendPhoneCode(broker.issuer, 'not-a-token-0123456789', `code=${code}`);
  t.like(unknown, { status: 401, body: { error: 'invalid_token' } });
  t.regex(String(unknown.headers.get('www-authenticate')), /error="invalid_token"/);
  const noPhone = await logIn('alice', 'no-phone', 'openid');
  const narrow = await sendPhoneCode(broker.issuer, noPhone.tokens.access_token, `code=${code}`);
  t.like(narrow, { status: 403, body: { error: 'insufficient_scope' } });
  t.regex(String(narrow.headers.get('www-authenticate')), /error="insufficient_scope", scope="phone"/);
});

test.serial('codes WeChat will not redeem for this person: used, another person\'s, another app\'s, an answer stamped for another app, no code; WeChat\'s quota: standard errors, nothing stored', async (t) => {
  const chen = await logIn('chen');
  const send = (body: string) => sendPhoneCode(broker.issuer, chen.tokens.access_token, body);
  const used = await tapPhoneButton(simulator.url, mini.appid, 'chen');
  await injectFaults(simulator.url, REDEEM, ['errcode:45011']);
  const quota = await send(`code=${used}`);
  t.like(quota, { status: 503, body: { error: 'temporarily_unavailable' } });
  t.is(quota.headers.get('retry-after'), '60');
  t.true(await broker.logged((line) => line.msg === 'phone number: WeChat rate limit reached (45011)'));
  t.is((await send(`code=${used}`)).status, 200, 'the code WeChat refused under its quota is still good');
  const cases: Array<[string, string]> = [
    ['used', `code=${used}`],
    ['another person\'s', `code=${await tapPhoneButton(simulator.url, mini.appid, 'alice')}`],
    ['another app\'s', `code=${await tapPhoneButton(simulator.url, otherMini.appid, 'chen')}`],
    ['stamped for another app', `code=${await tapPhoneButton(simulator.url, mini.appid, 'chen', otherMini.appid)}`],
    ['no code', 'nothing=here'],
  ];
  for (const [name, body] of cases) t.like(await send(body), { status: 400, body: { error: 'invalid_request' } }, name);
  t.true(await broker.logged((line) => line.msg === 'phone number refused: WeChat\'s answer is stamped (watermark.appid) for another app'));
  t.like(await oidc.fetchUserInfo(chen.client, chen.tokens.access_token, chen.sub), { phone_number: '+8615800001111' }, 'still the number of the good code');
});

test.serial('never a linking key: a recycled number on a second account leaves two accounts, and the move is logged; an erased account\'s number no longer names it', async (t) => {
  await fetch(`${simulator.url}/_sim/phone-numbers`, { method: 'POST', body: JSON.stringify({ user: 'chen', country_code: 86, number: '13912345678' }) });
  const alice = await logIn('alice');
  await sendPhoneCode(broker.issuer, alice.tokens.access_token, `code=${await tapPhoneButton(simulator.url, mini.appid, 'alice')}`);
  const chen = await logIn('chen');
  const moved = (from: string, to: string) => (line: Record<string, unknown>) => String(line.msg).startsWith('a phone number moved to another account') && line.from === from && line.to === to;
  t.like(await sendPhoneCode(broker.issuer, chen.tokens.access_token, `code=${await tapPhoneButton(simulator.url, mini.appid, 'chen')}`), { status: 200, body: { phone_number: '+8613912345678' } });
  t.true(await broker.logged(moved(alice.sub, chen.sub)));
  t.not(chen.sub, alice.sub);
  t.like(await oidc.fetchUserInfo(alice.client, alice.tokens.access_token, alice.sub), { phone_number: '+8613912345678' }, 'the first account keeps what it had');
  const token = await adminToken();
  t.is((await fetch(`${broker.issuer}/admin/accounts/${chen.sub}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status, 204);
  const since = broker.logs().length;
  const again = await logIn('alice');
  t.is((await sendPhoneCode(broker.issuer, again.tokens.access_token, `code=${await tapPhoneButton(simulator.url, mini.appid, 'alice')}`)).status, 200);
  t.true(await broker.logged((line) => line.msg === 'phone number stored', undefined, since));
  t.false(broker.logs().slice(since).some((line) => String(line.msg).startsWith('a phone number moved')), 'the erased account is not named as the number\'s holder');
});

test.serial('the admin API finds the account that holds a phone number now, written as people write it; the audit line masks it', async (t) => {
  const token = await adminToken();
  const find = async (phone: string) => {
    const answer = await fetch(`${broker.issuer}/admin/accounts?phone=${encodeURIComponent(phone)}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: answer.status, sub: ((await answer.json()) as { sub?: string }).sub };
  };
  const alice = await logIn('alice');
  await sendPhoneCode(broker.issuer, alice.tokens.access_token, `code=${await tapPhoneButton(simulator.url, mini.appid, 'alice')}`);
  for (const written of ['13912345678', '+86 139 1234 5678', '139-1234-5678']) t.deepEqual(await find(written), { status: 200, sub: alice.sub }, written);
  const bob = await logIn('bob');
  await sendPhoneCode(broker.issuer, bob.tokens.access_token, `code=${await tapPhoneButton(simulator.url, mini.appid, 'bob')}`);
  t.deepEqual(await find('+852 6123 4567'), { status: 200, sub: bob.sub }, 'a number outside China, with its country code');
  t.deepEqual(await find('13800138000'), { status: 404, sub: undefined }, 'a number nobody was given');
  t.is((await find('12345')).status, 400, 'no number that can exist');
  // Recycled: Chen is given Alice's old number; it is Chen's now, though Alice's account keeps what it had.
  const chen = await logIn('chen');
  await sendPhoneCode(broker.issuer, chen.tokens.access_token, `code=${await tapPhoneButton(simulator.url, mini.appid, 'chen')}`);
  t.deepEqual(await find('13912345678'), { status: 200, sub: chen.sub });
  t.true(await broker.logged((line) => line.msg === 'admin call' && (line.admin as { target?: { phone?: string } }).target?.phone === '…5678'));
  t.false(broker.output().includes('13912345678'), 'the number is never logged');
});
