// The WeCom client and the WeCom way in against the simulated WeCom over real HTTP: the
// token, members and non-members, consented details, the member's name, and every errcode
// a login can meet (../shared/wecom-and-phone.md 1.3), each as the typed error the one
// policy table reads. Serial: the simulated company and its fault queue are shared.

import test from 'ava';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.ts';
import { randomCorp, type SimCorp } from '../../src/simulator/wecom-corp.ts';
import {
  WeChatCodeRejectedError, WeChatCredentialsError, WeChatIpNotAllowedError, WeChatOutsideRangeError, WeChatTokenRefusedError, WeChatUntrustedDomainError,
} from '../../src/wechat/errors.ts';
import { failureOf } from '../../src/wechat/failures.ts';
import { WeComClient, wecomAuthorizeUrl, wecomSsoUrl, type CorpId, type WeComApp } from '../../src/wechat/wecom.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { WeComLogin } from '../../src/upstreams/wecom/wecom-login.ts';
import type { ConfiguredWeComApp } from '../../src/wechat/apps.ts';
import { injectFaults, simCalls, weComCode, weComControl, weComTokenCalls } from '../helpers/simulator.ts';

const CORP: SimCorp = randomCorp();
const APP: WeComApp = { kind: 'wecom', corpid: CORP.corpid as CorpId, agentid: CORP.agentid, secret: CORP.secret, scope: 'snsapi_base' };

let sim: RunningSimulator;
let logged = '';
let client: WeComClient;
let login: WeComLogin;
const CONFIGURED: ConfiguredWeComApp = { ...APP, id: 'staff', configuredBy: 'test', allowNonMembers: false };

test.before(async () => {
  sim = await startSimulator({ apps: [], corps: [CORP], callbackHosts: [], host: '127.0.0.1', port: 0 });
  const sink = new Writable({ write(chunk, _encoding, done) { logged += String(chunk); done(); } });
  const log = createLogger('debug', sink);
  client = new WeComClient({ apiUrl: sim.url, timeoutMs: 5000, log });
  login = new WeComLogin({ wecom: client, storage: new MemoryStorage(), connectUrl: sim.url, loginUrl: sim.url, log });
});
test.after.always(() => sim?.close());

const control = (path: string, body: Record<string, unknown>): Promise<Response> => weComControl(sim.url, CORP.corpid, path, body);
const code = (user: string, scope?: string): Promise<string> => weComCode(sim.url, CORP.corpid, user, scope);

test.serial('a member logs in: the userid, and the name user/get gives a self-built app', async (t) => {
  const { accessToken } = await client.token(APP);
  t.deepEqual(await client.visitor(accessToken, await code('alice')), { type: 'member', userid: 'WangXiaoAi' });
  t.is(await client.memberName(accessToken, 'WangXiaoAi' as never), '王小爱');
});

test.serial('the simulated WeCom: snsapi_privateinfo gives a visible member a user ticket for the consented email and mobile; a stale ticket is 84015', async (t) => {
  const { accessToken } = await client.token(APP);
  const api = (path: string, init?: RequestInit) => fetch(`${sim.url}/cgi-bin/${path}`, init).then((response) => response.json() as Promise<Record<string, unknown>>);
  const info = await api(`auth/getuserinfo?access_token=${accessToken}&code=${await code('alice', 'snsapi_privateinfo')}`);
  t.like(info, { errcode: 0, userid: 'WangXiaoAi' });
  const detail = (ticket: unknown) => api(`auth/getuserdetail?access_token=${accessToken}`, { method: 'POST', body: JSON.stringify({ user_ticket: ticket }) });
  t.like(await detail(info.user_ticket), { errcode: 0, email: 'xiaoai.wang@example.com', mobile: '13800138000' });
  t.like(await detail('no-such-ticket'), { errcode: 84015 });
  t.false('user_ticket' in await api(`auth/getuserinfo?access_token=${accessToken}&code=${await code('alice')}`), 'snsapi_base gives no ticket');
});

test.serial('somebody who is not a member gets an openid of the company, stable, and no userid', async (t) => {
  const { accessToken } = await client.token(APP);
  const first = await client.visitor(accessToken, await code('chen'));
  const again = await client.visitor(accessToken, await code('chen'));
  t.is(first.type, 'non-member');
  t.deepEqual(first, again);
});

test.serial('a code is single use (40029), a WeChatCodeRejectedError', async (t) => {
  const { accessToken } = await client.token(APP);
  const once = await code('alice');
  await client.visitor(accessToken, once);
  t.like(await t.throwsAsync(client.visitor(accessToken, once), { instanceOf: WeChatCodeRejectedError }), { errcode: 40029 });
});

test.serial('a wrong secret (40001) or corpid (40013) is a WeChatCredentialsError, and the secret is never logged', async (t) => {
  t.like(await t.throwsAsync(client.token({ ...APP, secret: 'not-the-secret-at-all' }), { instanceOf: WeChatCredentialsError }), { errcode: 40001 });
  t.like(await t.throwsAsync(client.token({ ...APP, corpid: 'ww0000000000000000' as CorpId }), { instanceOf: WeChatCredentialsError }), { errcode: 40013 });
  t.false(logged.includes(CORP.secret) || logged.includes('not-the-secret-at-all'), 'no secret in the log');
});

test.serial('a token that died early (42001) is WeChatTokenRefusedError, for the caller to renew once', async (t) => {
  const { accessToken } = await client.token(APP);
  await control('expire-token', {});
  await t.throwsAsync(client.visitor(accessToken, await code('alice')), { instanceOf: WeChatTokenRefusedError });
  const renewed = await client.token(APP);
  t.not(renewed.accessToken, accessToken);
  t.is((await client.visitor(renewed.accessToken, await code('alice'))).type, 'member');
});

test.serial('a member outside the visible range: no name (60011, WeChatOutsideRangeError), and still a member', async (t) => {
  const { accessToken } = await client.token(APP);
  await control('visible', { user: 'bob', visible: false });
  try {
    t.like(await t.throwsAsync(client.memberName(accessToken, 'bob.li' as never), { instanceOf: WeChatOutsideRangeError }), { errcode: 60011 });
    t.deepEqual(await client.visitor(accessToken, await code('bob')), { type: 'member', userid: 'bob.li' });
  } finally {
    await control('visible', { user: 'bob', visible: true });
  }
});

test.serial('a renamed member logs in with the new userid', async (t) => {
  const { accessToken } = await client.token(APP);
  await control('rename', { user: 'bob', userid: 'li.bo' });
  try {
    t.deepEqual(await client.visitor(accessToken, await code('bob')), { type: 'member', userid: 'li.bo' });
  } finally {
    await control('rename', { user: 'bob', userid: 'bob.li' });
  }
});

test.serial('the IP whitelist (60020): the operator reads the IP WeCom saw, the request id, and 企业可信IP; 50001 names the trusted domain', async (t) => {
  await injectFaults(sim.url, '/cgi-bin/gettoken', ['errcode:60020']);
  const error = await t.throwsAsync(client.token(APP), { instanceOf: WeChatIpNotAllowedError });
  t.is(error?.callerIp, '127.0.0.1');
  t.regex(String(error?.requestId), /^\d+_[0-9a-f]+$/);
  const note = failureOf(error!, { id: 'staff', kind: 'wecom' });
  t.is(note.kind, 'misconfigured');
  t.regex(note.note.msg, /127\.0\.0\.1.*企业可信IP of app staff/);
  await injectFaults(sim.url, '/cgi-bin/auth/getuserinfo', ['errcode:50001']);
  const domain = await t.throwsAsync(client.visitor((await client.token(APP)).accessToken, await code('alice')), { instanceOf: WeChatUntrustedDomainError });
  t.regex(failureOf(domain!, { id: 'staff', kind: 'wecom' }).note.msg, /可信域名/);
});

test('the URLs: in-client authorization on open.weixin.qq.com with the agentid, and WeCom\'s SSO page with login_type=CorpApp', (t) => {
  const request = { app: APP, redirectUri: 'https://sso.example.com/interaction/x/wecom', state: 'abc123' };
  const inClient = new URL(wecomAuthorizeUrl('https://open.weixin.qq.com', { ...request, scope: 'snsapi_base' }));
  t.is(inClient.hash, '#wechat_redirect');
  t.deepEqual(Object.fromEntries(inClient.searchParams), {
    appid: CORP.corpid, redirect_uri: request.redirectUri, response_type: 'code', scope: 'snsapi_base', state: 'abc123', agentid: CORP.agentid,
  });
  const sso = new URL(wecomSsoUrl('https://login.work.weixin.qq.com', { ...request, lang: 'en' }));
  t.is(sso.origin + sso.pathname, 'https://login.work.weixin.qq.com/wwlogin/sso/login');
  t.deepEqual(Object.fromEntries(sso.searchParams), {
    login_type: 'CorpApp', appid: CORP.corpid, agentid: CORP.agentid, redirect_uri: request.redirectUri, state: 'abc123', lang: 'en',
  });
});

const tokenCalls = (): Promise<number> => weComTokenCalls(sim.url, CORP.corpid);

test.serial('the way in: a member with their name, somebody else with the company\'s openid, on one shared token', async (t) => {
  const before = await tokenCalls();
  t.deepEqual(await login.complete(CONFIGURED, await code('alice')), { corpid: CORP.corpid, type: 'member', userid: 'WangXiaoAi', name: '王小爱' });
  t.like(await login.complete(CONFIGURED, await code('bob')), { userid: 'bob.li', name: '李博' });
  const outsider = await login.complete(CONFIGURED, await code('chen'));
  t.like(outsider, { corpid: CORP.corpid, type: 'non-member' });
  t.regex(outsider.type === 'non-member' ? outsider.openid : '', /^wm/);
  t.is(await tokenCalls() - before, 1, 'one gettoken for the three logins');
});

test.serial('the way in, snsapi_privateinfo: the email and mobile the member consented to, the mobile as E.164; a ticket WeCom refuses leaves them out and the login goes on', async (t) => {
  t.like(await login.complete(CONFIGURED, await code('alice', 'snsapi_privateinfo')), {
    type: 'member', userid: 'WangXiaoAi', detail: { email: 'xiaoai.wang@example.com', mobile: '+8613800138000' },
  });
  t.like(await login.complete(CONFIGURED, await code('bob', 'snsapi_privateinfo')), { detail: { email: 'bob.li@example.com', mobile: '+85291234567' } });
  t.false('detail' in await login.complete(CONFIGURED, await code('alice')), 'snsapi_base: no ticket, no details');
  await injectFaults(sim.url, '/cgi-bin/auth/getuserdetail', ['errcode:84015']);
  const stale = await login.complete(CONFIGURED, await code('alice', 'snsapi_privateinfo'));
  t.like(stale, { type: 'member', userid: 'WangXiaoAi', name: '王小爱' });
  t.false('detail' in stale);
  t.regex(logged, /WeCom refused the member's user ticket \(auth\/getuserdetail\): the login goes on without their email and mobile/);
  t.notRegex(logged, /user_ticket|xiaoai\.wang@example\.com|13800138000/, 'neither the ticket nor the details are logged');
});

test.serial('the way in: a token WeCom refuses is renewed once and the code is redeemed once; outside the visible range the login goes on without a name', async (t) => {
  await login.complete(CONFIGURED, await code('alice'));
  await control('expire-token', {});
  const since = (await simCalls(sim.url)).length;
  t.like(await login.complete(CONFIGURED, await code('alice')), { userid: 'WangXiaoAi', name: '王小爱' });
  const calls = (await simCalls(sim.url)).slice(since).map((call) => `${call.path}${call.errcode ? ` ${call.errcode}` : ''}`);
  t.deepEqual(calls.filter((call) => call.startsWith('/cgi-bin/auth/getuserinfo')), ['/cgi-bin/auth/getuserinfo 42001', '/cgi-bin/auth/getuserinfo']);
  t.is(calls.filter((call) => call === '/cgi-bin/gettoken').length, 1);
  await control('visible', { user: 'bob', visible: false });
  try {
    t.deepEqual(await login.complete(CONFIGURED, await code('bob')), { corpid: CORP.corpid, type: 'member', userid: 'bob.li', name: undefined });
  } finally {
    await control('visible', { user: 'bob', visible: true });
  }
});
