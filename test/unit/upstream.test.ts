// Which way a person goes to WeChat, from the browser, what is configured and the request.

import test from 'ava';
import type { Account, AccountId } from '../../src/accounts/account.ts';
import { accountCovers, chooseUpstream, chooseWithWeCom, type UpstreamInput } from '../../src/upstreams/choose.ts';
import type { AppId, Unionid, WeChatApp } from '../../src/wechat/types.ts';
import { browserKind, isWeComClient } from '../../src/wechat/user-agent.ts';

const mp: WeChatApp = { kind: 'mp', appid: 'wxmp' as AppId, secret: 's' };
const open: WeChatApp = { kind: 'open', appid: 'wxopen' as AppId, secret: 's' };
const input = (over: Partial<UpstreamInput>): UpstreamInput => ({
  browser: 'desktop', apps: [mp, open], qrMode: 'embedded', silent: false, wantsQr: false, ...over,
});

test('User-Agents: WeChat (phone and desktop clients), WeCom, phones, desktops', (t) => {
  t.is(browserKind('Mozilla/5.0 (iPhone) Mobile/15E148 MicroMessenger/8.0.50 NetType/WIFI'), 'wechat');
  t.is(browserKind('Mozilla/5.0 (Windows NT 10.0) WindowsWechat MicroMessenger/7.0.20'), 'wechat');
  t.is(browserKind('Mozilla/5.0 (Linux; Android 14) Mobile MicroMessenger/8.0 wxwork/4.1'), 'mobile');
  t.is(browserKind('Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36'), 'mobile');
  t.is(browserKind('Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36'), 'desktop');
  t.is(browserKind(undefined), 'desktop');
});

test('WeCom beside WeChat: in the WeCom client WeCom (silent first, whatever the app may ask later), in WeChat WeChat, elsewhere what the person picks', (t) => {
  const staff = { scope: 'snsapi_base' };
  const wecom = (over: object = {}) => ({ app: staff, inWeCom: false, picked: undefined, ...over });
  t.true(isWeComClient('Mozilla/5.0 (Linux; Android 14) Mobile MicroMessenger/8.0 wxwork/4.1'));
  t.false(isWeComClient('Mozilla/5.0 (iPhone) Mobile/15E148 MicroMessenger/8.0.50 NetType/WIFI'));
  t.deepEqual(chooseWithWeCom(input({ browser: 'mobile' }), wecom({ inWeCom: true })), { type: 'wecom', app: staff, inClient: true });
  t.deepEqual(chooseWithWeCom(input({ browser: 'mobile', silent: true }), wecom({ inWeCom: true })), { type: 'wecom', app: staff, inClient: true });
  const privateinfo = { scope: 'snsapi_privateinfo' };
  t.deepEqual(chooseWithWeCom(input({ silent: true }), wecom({ inWeCom: true, app: privateinfo })), { type: 'wecom', app: privateinfo, inClient: true });
  t.deepEqual(chooseWithWeCom(input({ browser: 'wechat' }), wecom()), { type: 'web', app: mp });
  t.deepEqual(chooseWithWeCom(input({}), wecom()), { type: 'pick', app: staff });
  t.deepEqual(chooseWithWeCom(input({ browser: 'mobile' }), wecom()), { type: 'pick', app: staff });
  t.deepEqual(chooseWithWeCom(input({}), wecom({ picked: 'wecom' })), { type: 'wecom', app: staff, inClient: false });
  t.deepEqual(chooseWithWeCom(input({}), wecom({ picked: 'wechat' })), { type: 'qr', app: open, mode: 'embedded' });
  t.deepEqual(chooseWithWeCom(input({ wantsQr: true }), wecom()), { type: 'qr', app: open, mode: 'embedded' });
  t.deepEqual(chooseWithWeCom(input({ apps: [] }), wecom()), { type: 'wecom', app: staff, inClient: false }, 'WeCom alone: its SSO page');
  t.deepEqual(chooseWithWeCom(input({ silent: true }), wecom()), { type: 'login-required' });
  t.deepEqual(chooseWithWeCom(input({}), wecom({ app: undefined })), { type: 'qr', app: open, mode: 'embedded' }, 'no WeCom app: as before');
});

test('inside WeChat with an Official Account: web authorization', (t) => {
  t.deepEqual(chooseUpstream(input({ browser: 'wechat' })), { type: 'web', app: mp });
});

test('desktop: QR login in the configured mode', (t) => {
  t.deepEqual(chooseUpstream(input({})), { type: 'qr', app: open, mode: 'embedded' });
  t.deepEqual(chooseUpstream(input({ qrMode: 'redirect' })), { type: 'qr', app: open, mode: 'redirect' });
});

test('a phone outside WeChat: open-in-WeChat, with the QR offered where QR login is configured', (t) => {
  t.deepEqual(chooseUpstream(input({ browser: 'mobile' })), { type: 'open-in-wechat', qrApp: open });
  t.deepEqual(chooseUpstream(input({ browser: 'mobile', apps: [mp] })), { type: 'open-in-wechat', qrApp: undefined });
  t.deepEqual(chooseUpstream(input({ browser: 'mobile', wantsQr: true })), { type: 'qr', app: open, mode: 'embedded' });
});

test('only what is configured is offered', (t) => {
  t.deepEqual(chooseUpstream(input({ apps: [mp] })), { type: 'open-in-wechat', qrApp: undefined });
  t.deepEqual(chooseUpstream(input({ browser: 'wechat', apps: [open] })), { type: 'qr', app: open, mode: 'embedded' });
  t.deepEqual(chooseUpstream(input({ apps: [] })), { type: 'none' });
});

test('prompt=none: silent web authorization inside WeChat, login_required everywhere else', (t) => {
  t.deepEqual(chooseUpstream(input({ browser: 'wechat', silent: true })), { type: 'web', app: mp });
  t.deepEqual(chooseUpstream(input({ silent: true })), { type: 'login-required' });
  t.deepEqual(chooseUpstream(input({ browser: 'wechat', silent: true, apps: [open] })), { type: 'login-required' });
});

const account = (over: Partial<Account>): Account => ({
  id: 'a' as AccountId, createdAt: 0, updatedAt: 0, identities: [], profile: {}, ...over,
});

test('snsapi_base is enough for openid alone, or when the account has what is asked', (t) => {
  t.true(accountCovers(undefined, new Set(['openid'])));
  t.false(accountCovers(undefined, new Set(['openid', 'profile'])));
  t.false(accountCovers(account({}), new Set(['openid', 'profile'])));
  t.true(accountCovers(account({ profile: { nickname: 'Ann' } }), new Set(['openid', 'profile'])));
  t.false(accountCovers(account({ profile: { nickname: 'Ann' } }), new Set(['openid', 'profile', 'wechat'])));
  t.true(accountCovers(account({ profile: { nickname: 'Ann' }, unionid: 'u' as Unionid }), new Set(['openid', 'profile', 'wechat'])));
});

test('follow-to-login: on a desktop without a website app, or on request; never inside WeChat or on a phone', (t) => {
  t.deepEqual(chooseUpstream(input({ apps: [mp], follow: mp })), { type: 'follow', app: mp, qrApp: undefined });
  t.deepEqual(chooseUpstream(input({ follow: mp })), { type: 'follow', app: mp, qrApp: open }, 'the client lists the account first');
  t.deepEqual(chooseUpstream(input({ apps: [open, mp], follow: mp })), { type: 'qr', app: open, mode: 'embedded' }, 'the client lists its website app first');
  t.deepEqual(chooseUpstream(input({ follow: mp, wantsQr: true })), { type: 'qr', app: open, mode: 'embedded' }, 'the person asked for QR login');
  t.deepEqual(chooseUpstream(input({ apps: [open, mp], follow: mp, wantsFollow: true })), { type: 'follow', app: mp, qrApp: open });
  t.deepEqual(chooseUpstream(input({ browser: 'wechat', follow: mp, wantsFollow: true })), { type: 'web', app: mp });
  t.deepEqual(chooseUpstream(input({ browser: 'mobile', apps: [mp], follow: mp })), { type: 'open-in-wechat', qrApp: undefined });
  t.deepEqual(chooseUpstream(input({ wantsFollow: true })), { type: 'qr', app: open, mode: 'embedded' }, 'asked, but no account offers it');
});
