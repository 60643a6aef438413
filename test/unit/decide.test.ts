// The callback's decision, from what is known once WeChat has answered to one outcome:
// pure, so every branch is checked here without a browser.

import test from 'ava';
import type { Account, AccountId } from '../../src/accounts/account.ts';
import type { ConfiguredApp, ConfiguredWeComApp } from '../../src/wechat/apps.ts';
import type { CorpId, WeComOpenid, WeComUserId } from '../../src/wechat/wecom.ts';
import type { Attempt } from '../../src/login/attempts.ts';
import { decide, type CallbackFacts, type UpstreamResult } from '../../src/login/decide.ts';
import {
  errorFromErrcode, WeChatTokenRefusedError, WeChatSnapshotUserError, WeChatTicketError, WeChatUnavailableError,
} from '../../src/wechat/errors.ts';
import type { AppId, Openid, Unionid, WeChatUser } from '../../src/wechat/types.ts';

const app: ConfiguredApp = { id: 'mp', kind: 'mp', appid: 'wxmp' as AppId, secret: 's'.repeat(32), configuredBy: 'WECHAT_MP_APPID/WECHAT_MP_SECRET' };
const base: Attempt = { uid: 'u1', channel: 'web', appid: app.appid, scope: 'snsapi_base', embedded: false, silent: false, round: 1 };
const user: WeChatUser = { appid: app.appid, openid: 'o1' as Openid };
const account = (over: Partial<Account> = {}): Account => ({
  id: 'a1' as AccountId, createdAt: 1, updatedAt: 1, identities: [{ appid: app.appid, openid: user.openid }], profile: {}, ...over,
});
const facts = (over: Partial<CallbackFacts> & { result: UpstreamResult }): CallbackFacts => ({
  attempt: base, app, account: undefined, scopes: new Set(['openid']), ...over,
});
const failed = (error: Error): UpstreamResult => ({ type: 'failed', error: error as never });

test('WeChat vouched and the request asks for nothing snsapi_base lacks: login', (t) => {
  const outcome = decide(facts({ result: { type: 'user', user } }));
  t.like(outcome, { type: 'login', user, metric: 'success' });
});

test('snsapi_base for a profile the account lacks: upgrade to snsapi_userinfo, same round', (t) => {
  const outcome = decide(facts({ result: { type: 'user', user }, scopes: new Set(['openid', 'profile']), account: account() }));
  t.deepEqual(outcome, { type: 'again', attempt: { ...base, scope: 'snsapi_userinfo' } });
});

test('snsapi_base for a unionid the account has, and a profile it has: login', (t) => {
  const covered = account({ unionid: 'u1' as Unionid, profile: { nickname: 'n' } });
  t.is(decide(facts({ result: { type: 'user', user }, scopes: new Set(['profile', 'wechat']), account: covered })).type, 'login');
});

test('silent, and an upgrade would show WeChat\'s sheet: login_required, nothing shown', (t) => {
  const outcome = decide(facts({ attempt: { ...base, silent: true }, result: { type: 'user', user }, scopes: new Set(['profile']) }));
  t.like(outcome, { type: 'rp-error', error: { error: 'login_required' }, metric: 'login_required' });
});

test('after snsapi_userinfo there is nothing to upgrade: login even without an account yet', (t) => {
  const outcome = decide(facts({ attempt: { ...base, scope: 'snsapi_userinfo' }, result: { type: 'user', user }, scopes: new Set(['profile']) }));
  t.is(outcome.type, 'login');
});

test('refused at WeChat: access_denied for the relying party', (t) => {
  t.like(decide(facts({ result: { type: 'refused' } })), { type: 'rp-error', error: { error: 'access_denied' }, metric: 'refused' });
});

test('a rejected code: one fresh round, then a page with a way back', (t) => {
  const rejected = failed(errorFromErrcode(40163, 'code been used'));
  t.deepEqual(decide(facts({ result: rejected })).type, 'again');
  t.like(decide(facts({ result: rejected })), { attempt: { ...base, round: 2 } });
  t.like(decide(facts({ attempt: { ...base, round: 2 }, result: rejected })), { type: 'page', page: 'code', status: 400, retry: true });
});

test('wrong app credentials: the misconfigured page, and the operator is told which variables', (t) => {
  const outcome = decide(facts({ result: failed(errorFromErrcode(40125, 'invalid appsecret')) }));
  t.like(outcome, { type: 'page', page: 'misconfigured', status: 503, retry: false, metric: 'misconfigured', note: { level: 'error' } });
  t.regex(outcome.type === 'page' ? outcome.note.msg : '', /WECHAT_MP_APPID\/WECHAT_MP_SECRET/);
});

test('a snapshot-page user: a page telling them to use the full service', (t) => {
  t.like(decide(facts({ result: failed(new WeChatSnapshotUserError('x')) })), { type: 'page', page: 'snapshot', status: 403, retry: true });
});

test('WeChat unavailable or refusing an unexpected call: temporarily_unavailable for the relying party', (t) => {
  for (const error of [new WeChatUnavailableError('timeout'), errorFromErrcode(48001, 'api unauthorized'), errorFromErrcode(45011, 'limit')]) {
    t.like(decide(facts({ result: failed(error) })), { type: 'rp-error', error: { error: 'temporarily_unavailable' }, metric: 'unavailable' });
  }
});

const shop: ConfiguredApp = { id: 'shop-mp', kind: 'mp', appid: 'wxshop' as AppId, component: 'wxisv' as AppId, via: 'isv', configuredBy: 'WECHAT_APPS_FILE (app shop-mp)' };
const onBehalf = (error: Error) => decide(facts({ app: shop, attempt: { ...base, appid: shop.appid }, result: failed(error) }));
const noteOf = (outcome: ReturnType<typeof decide>) => ('note' in outcome ? outcome.note?.msg ?? '' : '');

test('through a platform, the ticket missing, expired (61005) or invalid (61006): the "starting up" page, with a way to try again', (t) => {
  for (const error of [new WeChatTicketError('no ticket yet'), errorFromErrcode(61005, 'expired'), errorFromErrcode(61006, 'invalid')]) {
    const outcome = onBehalf(error);
    t.like(outcome, { type: 'page', page: 'starting', status: 503, retry: true, metric: 'unavailable', note: { level: 'warn' } });
    t.regex(noteOf(outcome), /platform isv has no valid component_verify_ticket/);
  }
});

test('through a platform, an IP off its whitelist (61004) or a lapsed authorization (61023): misconfigured, and the operator told what to do', (t) => {
  const ip = onBehalf(errorFromErrcode(61004, 'access clientip is not registered'));
  t.like(ip, { type: 'page', page: 'misconfigured', status: 503, retry: false, note: { level: 'error' } });
  t.regex(noteOf(ip), /whitelist of third-party platform isv/);
  const lapsed = onBehalf(errorFromErrcode(61023, 'refresh_token is invalid'));
  t.like(lapsed, { type: 'page', page: 'misconfigured', status: 503, retry: false, note: { level: 'error' } });
  t.regex(noteOf(lapsed), /shop-mp .* must authorize the platform again/);
});

test('an IP off the app\'s own whitelist (40164, WeChat names the IP): misconfigured, and the operator told where to add it', (t) => {
  const outcome = decide(facts({ result: failed(errorFromErrcode(40164, 'invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist rid: 6500-1')) }));
  t.like(outcome, { type: 'page', page: 'misconfigured', status: 503, retry: false, note: { level: 'error' } });
  t.regex(noteOf(outcome), /IP whitelist \(IP白名单\)/);
});

test('through a platform, a component token WeChat refuses even after renewal: temporarily_unavailable for the relying party', (t) => {
  t.like(onBehalf(new WeChatTokenRefusedError('refused')), { type: 'rp-error', error: { error: 'temporarily_unavailable' }, metric: 'unavailable', note: { level: 'error' } });
});

test('a user WeChat blocked as high-risk (40226): access_denied with the reason; a rate limit (45011): temporarily_unavailable', (t) => {
  t.like(decide(facts({ result: failed(errorFromErrcode(40226, 'high risk')) })), {
    type: 'rp-error', error: { error: 'access_denied', error_description: 'WeChat blocked this account as high-risk' }, metric: 'refused',
  });
  t.like(decide(facts({ result: failed(errorFromErrcode(45011, 'api minute-quota reach limit')) })), {
    type: 'rp-error', error: { error: 'temporarily_unavailable' }, metric: 'unavailable', note: { level: 'warn' },
  });
});

const staff: ConfiguredWeComApp = {
  id: 'staff', kind: 'wecom', corpid: 'ww1234567890abcdef' as CorpId, agentid: '1000002', secret: 's'.repeat(43), scope: 'snsapi_base',
  configuredBy: 'WECHAT_APPS_FILE (app staff)', allowNonMembers: false,
};
const wecomAttempt: Attempt = { ...base, channel: 'wecom', appid: staff.corpid as string as AppId, wecom: { app: 'staff', inClient: true } };
const outsider = { type: 'member', person: { corpid: staff.corpid, type: 'non-member', openid: 'wmX' as WeComOpenid } } as const;

test('WeCom: a member logs in; somebody who is not one gets the not-a-member page unless the app allows them; outside the visible range is access_denied', (t) => {
  const member = { corpid: staff.corpid, type: 'member', userid: 'zhangsan' as WeComUserId, name: '张三' } as const;
  t.like(decide(facts({ app: staff, attempt: wecomAttempt, result: { type: 'member', person: member } })), { type: 'login', user: member });
  t.like(decide(facts({ app: staff, attempt: wecomAttempt, result: outsider })), { type: 'page', page: 'not_member', status: 403, metric: 'refused' });
  t.like(decide(facts({ app: { ...staff, allowNonMembers: true }, attempt: wecomAttempt, result: outsider })), { type: 'login', user: outsider.person });
  const range = decide(facts({ app: staff, attempt: wecomAttempt, result: failed(errorFromErrcode(60011, 'no privilege')) }));
  t.like(range, { type: 'rp-error', error: { error: 'access_denied', error_description: 'the member is outside the app\'s visible range in WeCom' } });
  t.regex(noteOf(range), /visible range \(可见范围\) of WeCom app staff/);
});

test('WeCom privateinfo: a member whose account lacks the email or phone asked for is asked once, in the client only, never silently', (t) => {
  const member = { type: 'member', person: { corpid: staff.corpid, type: 'member', userid: 'zhangsan' as WeComUserId } } as const;
  const asking = { ...staff, scope: 'snsapi_privateinfo' } as const;
  const scopes = new Set(['openid', 'email', 'phone']);
  const contact = { verified: false, source: 'wecom:x', at: 1 };
  t.deepEqual(decide(facts({ app: asking, attempt: wecomAttempt, result: member, scopes })),
    { type: 'again', attempt: { ...wecomAttempt, wecom: { app: 'staff', inClient: true, privateinfo: true } } }, 'the consent page next');
  const asked = { ...wecomAttempt, wecom: { app: 'staff', inClient: true, privateinfo: true } };
  t.is(decide(facts({ app: asking, attempt: asked, result: member, scopes })).type, 'login', 'asked once: the login goes on with what WeCom gave');
  const covered = account({ contacts: { email: { value: 'z@example.com', ...contact }, phone: { value: '+8613800138000', ...contact } } });
  t.is(decide(facts({ app: asking, attempt: wecomAttempt, result: member, scopes, account: covered })).type, 'login', 'the account has both');
  t.like(decide(facts({ app: asking, attempt: { ...wecomAttempt, silent: true }, result: member, scopes })), { type: 'rp-error', error: { error: 'login_required' } });
  t.is(decide(facts({ app: staff, attempt: wecomAttempt, result: member, scopes })).type, 'login', 'an snsapi_base app never asks');
  t.is(decide(facts({ app: asking, attempt: { ...wecomAttempt, wecom: { app: 'staff', inClient: false } }, result: member, scopes })).type, 'login', 'WeCom\'s SSO page has no privateinfo');
  t.is(decide(facts({ app: asking, attempt: wecomAttempt, result: member })).type, 'login', 'neither email nor phone asked');
});
