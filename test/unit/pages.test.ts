// Small pieces of what leaves the broker: WeChat authorize URLs, avatars, languages, escaping.

import test from 'ava';
import Koa from 'koa';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { accountDeletedPage, accountPage } from '../../src/pages/account-views.ts';
import { consoleAccountPage } from '../../src/pages/console-views.ts';
import { loggedOutPage } from '../../src/pages/logout-pages.ts';
import { platformAuthorizedPage } from '../../src/pages/platform-pages.ts';
import { USER_AGENTS } from '../helpers/user-agents.ts';
import { esc, html } from '../../src/pages/html.ts';
import { catalogue, firstSpoken, negotiateLang } from '../../src/pages/i18n.ts';
import { qrConnectUrl, webAuthorizeUrl } from '../../src/wechat/authorize.ts';
import { httpsAvatar } from '../../src/wechat/avatar.ts';
import type { AppId } from '../../src/wechat/types.ts';

test('authorize URLs: WeChat\'s parameter order, the redirect_uri encoded, and #wechat_redirect', (t) => {
  const request = { appid: 'wxabc' as AppId, redirectUri: 'https://login.example.com/interaction/u1/wechat', scope: 'snsapi_base' as const, state: 'Ab12' };
  t.is(webAuthorizeUrl('https://open.weixin.qq.com', request),
    'https://open.weixin.qq.com/connect/oauth2/authorize?appid=wxabc&redirect_uri=https%3A%2F%2Flogin.example.com%2Finteraction%2Fu1%2Fwechat&response_type=code&scope=snsapi_base&state=Ab12#wechat_redirect');
  t.is(qrConnectUrl('https://open.weixin.qq.com', { ...request, scope: 'snsapi_login', lang: 'en' }),
    'https://open.weixin.qq.com/connect/qrconnect?appid=wxabc&redirect_uri=https%3A%2F%2Flogin.example.com%2Finteraction%2Fu1%2Fwechat&response_type=code&scope=snsapi_login&state=Ab12&lang=en#wechat_redirect');
});

test('avatars are handed out as https only', (t) => {
  t.is(httpsAvatar('http://thirdwx.qlogo.cn/mmopen/vi_32/x/132'), 'https://thirdwx.qlogo.cn/mmopen/vi_32/x/132');
  t.is(httpsAvatar('https://wx.qlogo.cn/a/0'), 'https://wx.qlogo.cn/a/0');
  t.is(httpsAvatar('http://evil.example/qlogo.cn.png'), undefined);
  t.is(httpsAvatar('javascript:alert(1)'), undefined);
  t.is(httpsAvatar(''), undefined);
  t.is(httpsAvatar(undefined), undefined);
});

test('languages: zh-CN unless English is preferred', (t) => {
  t.is(negotiateLang(undefined), 'zh-CN');
  t.is(negotiateLang('en-US,en;q=0.9'), 'en');
  t.is(negotiateLang('zh-TW,zh;q=0.9,en;q=0.8'), 'zh-TW', 'Traditional Chinese for Taiwan (it was Simplified before)');
  t.is(negotiateLang('zh-HK'), 'zh-TW');
  t.is(negotiateLang('zh-Hant-MO'), 'zh-TW');
  t.is(negotiateLang('zh-Hans-CN,zh-TW;q=0.5'), 'zh-CN');
  t.is(negotiateLang('fr-FR,en;q=0.5,zh;q=0.4'), 'en');
  t.is(negotiateLang('de-DE'), 'zh-CN');
  t.is(negotiateLang('zh;q=0,en'), 'en');
});

test('ui_locales (BCP 47 tags, the most wanted first): the first the pages are written in, any case; none is undefined', (t) => {
  t.is(firstSpoken(['fr', 'zh-Hant', 'en']), 'zh-TW');
  t.is(firstSpoken(['zh-Hans-HK']), 'zh-CN', 'the Simplified script asked for by name');
  t.is(firstSpoken(['EN-gb', 'zh']), 'en');
  t.is(firstSpoken(['', 'de', 'ja-JP']), undefined);
  t.is(firstSpoken([]), undefined);
});

test('Chinese text quotes a name as its readers do (“” in zh-CN, 「」 in zh-TW), never sets it off by spaces as English does', (t) => {
  const offenders = (['zh-CN', 'zh-TW'] as const).flatMap((lang) => Object.entries(catalogue(lang)).flatMap(([key, text]) => [
    ...(lang === 'zh-CN' && /[「」]/.test(text) ? [`${lang} ${key}: 「」`] : []),
    ...(/ \{(app|client|device|name)\}|\{(app|client|device|name)\} /.test(text) ? [`${lang} ${key}: a name between spaces`] : []),
  ]));
  t.deepEqual(offenders, []);
});

test('every interpolated value is escaped', (t) => {
  t.is(esc('<b>"&\''), '&lt;b&gt;&quot;&amp;&#39;');
  t.is(html`<p title="${'"><script>'}">${'<i>'}</p>`.html, '<p title="&quot;&gt;&lt;script&gt;">&lt;i&gt;</p>');
  t.is(html`<ul>${['<a>', '<b>'].map((x) => html`<li>${x}</li>`)}</ul>`.html, '<ul><li>&lt;a&gt;</li><li>&lt;b&gt;</li></ul>');
});

/** A request from `userAgent`, as Koa hands it to a page. */
function contextFrom(userAgent: string): Koa.Context {
  const request = new IncomingMessage(new Socket());
  Object.assign(request, { method: 'GET', url: '/', headers: { 'user-agent': userAgent, 'accept-language': 'zh-CN' } });
  return new Koa({ keys: ['k'.repeat(32)] }).createContext(request, new ServerResponse(request)) as Koa.Context;
}

test('the pages where a path ends inside WeChat (logged out, account deleted, platform authorized) offer WeChat\'s close; elsewhere nothing', (t) => {
  for (const [name, render] of [['logged out', loggedOutPage], ['account deleted', accountDeletedPage], ['platform authorized', platformAuthorizedPage]] as const) {
    const inWeChat = contextFrom(USER_AGENTS.wechat);
    render(inWeChat);
    t.regex(String(inWeChat.body), /<button id="wx-close"[^>]*>关闭页面<\/button>/, name);
    t.regex(String(inWeChat.body), /WeixinJSBridge/, name);
    const desktop = contextFrom(USER_AGENTS.desktop);
    render(desktop);
    t.notRegex(String(desktop.body), /wx-close/, name);
  }
});

test('the person\'s page shows the phone number and email kept, each with where it came from; nothing when none is kept', (t) => {
  const data = { apps: ['商城小程序'], createdAt: Date.UTC(2026, 0, 1), sessions: [{ uid: 'here', apps: [], current: true }], grants: [], accesses: [], logins: [] };
  const page = contextFrom(USER_AGENTS.desktop);
  page.state.pageToken = () => 'token';
  accountPage(page, { ...data, contacts: { phone: { value: '+8613912345678', from: '商城小程序' }, email: { value: 'san@example.com', from: undefined } } });
  t.regex(String(page.body), /<p>手机号：\+8613912345678（来自商城小程序）<\/p>/);
  t.regex(String(page.body), /<p>邮箱：san@example\.com（来自企业微信）<\/p>/);
  const bare = contextFrom(USER_AGENTS.desktop);
  bare.state.pageToken = () => 'token';
  accountPage(bare, { ...data, contacts: {} });
  t.notRegex(String(bare.body), /手机号|邮箱/);
});

test('the person\'s page lists their recent logins as given, each with when, the app, the WeChat app it went through and the device (a device\'s login by where its code was confirmed); says when none is kept', (t) => {
  const data = { apps: ['商城公众号'], createdAt: Date.UTC(2026, 0, 1), sessions: [], grants: [], accesses: [], contacts: {} };
  const page = contextFrom(USER_AGENTS.desktop);
  page.state.pageToken = () => 'token';
  accountPage(page, { ...data, logins: [
    { at: Date.UTC(2026, 11, 5, 2, 30), site: '商城', app: '商城公众号', device: 'WeChat · iOS', deviceFlow: false, disowned: false },
    { at: Date.UTC(2026, 11, 4, 1, 0), site: undefined, app: '网站扫码登录', device: undefined, deviceFlow: false, disowned: true },
    { at: Date.UTC(2026, 11, 3, 1, 0), site: '客厅电视', app: '商城公众号', device: 'browser · Android', deviceFlow: true, disowned: false },
  ] });
  const body = String(page.body);
  t.regex(body, /<h2>最近的登录<\/h2>/);
  t.regex(body, /<li>2026-12-05 10:30 · 商城（通过“商城公众号”）<br><span class="muted">设备：微信 · iOS<\/span><form method="post" action="\/account\/not-me">[^]*?<input type="hidden" name="login" value="1796437800000">\s*<button class="button" type="submit">不是我（2026-12-05 10:30）<\/button><\/form><\/li>\s*<li>上次登录：2026-12-04 09:00，通过“网站扫码登录”<br><strong>已报告：不是你本人<\/strong><\/li>/, 'newest first, China Standard Time, the device in the page\'s words; "not me" for each login not yet reported');
  t.regex(body, /<li>2026-12-03 09:00 · 客厅电视（通过“商城公众号”）<br><span class="muted">设备：用代码登录的设备，代码在浏览器 · Android上确认<\/span>/, 'a device\'s login: the device got the tokens, the code was confirmed in this browser');
  t.notRegex(body, /还没有记录/);
  const none = contextFrom(USER_AGENTS.desktop);
  none.state.pageToken = () => 'token';
  accountPage(none, { ...data, logins: [] });
  t.regex(String(none.body), /<h2>最近的登录<\/h2>\s*<p>[^<]*<\/p>\s*<p>还没有记录。<\/p>/);
});

test('the console lists a person\'s recent logins with where each completed, a device\'s login by where its code was confirmed', (t) => {
  const page = contextFrom(USER_AGENTS.desktop);
  page.state.pageToken = () => 'token';
  const account = {
    sub: 'sub-1', unionid: null, identities: [], profile: { nickname: null }, contacts: { phone: null, email: null },
    created_at: '2026-12-01T00:00:00.000Z', updated_at: '2026-12-01T00:00:00.000Z', last_login: null, merged_from: [], suspended: null,
  };
  const logins = [
    { at: '2026-12-05T02:30:00.000Z', app: 'mp', appid: 'wxaaaaaaaaaaaaaaaa', client: 'tv', device: 'WeChat · iOS', device_flow: true, disowned_at: null },
    { at: '2026-12-04T01:00:00.000Z', app: 'mp', appid: 'wxaaaaaaaaaaaaaaaa', client: 'shop', device: 'Chrome · Windows', device_flow: false, disowned_at: null },
  ];
  consoleAccountPage(page, { sub: 'operator', role: 'read' }, account, { sessions: [], grants: [], logins, accesses: [] }, { reasonMax: 200, suspensionDays: [1] });
  const body = String(page.body);
  t.regex(body, /<td>tv<\/td><td>设备代码，在WeChat · iOS上确认<\/td>/);
  t.regex(body, /<td>shop<\/td><td>Chrome · Windows<\/td>/);
});

test('the person\'s page lists each browser: which, since when, when last used, its apps, this one marked and without a button, every other with its own', (t) => {
  const page = contextFrom(USER_AGENTS.desktop);
  page.state.pageToken = () => 'token';
  accountPage(page, {
    apps: ['网站扫码登录'], createdAt: Date.UTC(2026, 0, 1), grants: [], contacts: {}, accesses: [], logins: [],
    sessions: [
      { uid: 'there', loginAt: Date.UTC(2026, 11, 5, 2, 30), apps: ['商城', '会员中心'], current: false, device: { name: 'WeChat · iOS', usedAt: Date.UTC(2026, 11, 5, 4, 5) } },
      { uid: 'here', loginAt: Date.UTC(2026, 11, 4, 1, 0), apps: [], current: true, device: { name: 'Chrome · Windows', usedAt: Date.UTC(2026, 11, 4, 1, 0, 20) } },
      { uid: 'older', loginAt: Date.UTC(2026, 11, 3, 1, 0), apps: [], current: false },
      { uid: 'mini', loginAt: Date.UTC(2026, 11, 2, 1, 0), apps: ['商城小程序'], current: false, inApp: true },
    ],
  });
  const body = String(page.body);
  t.regex(body, /<li><strong>微信 · iOS<\/strong>\s*<br><span class="muted">2026-12-05 10:30 登录，最近使用于 2026-12-05 12:05<\/span>\s*<br><span class="muted">登录过的应用：商城、会员中心<\/span>/);
  t.regex(body, /<input type="hidden" name="session" value="there">\s*<button class="button" type="submit">退出微信 · iOS（2026-12-05 10:30 登录）<\/button>/);
  t.regex(body, /<li><strong>Chrome · Windows<\/strong>（本设备）\s*<br><span class="muted">2026-12-04 09:00 登录<\/span>/, 'used in the minute it logged in: no second time');
  t.notRegex(body, /name="session" value="here"/, 'this browser logs out as every other way does, not from this list');
  t.regex(body, /<li><strong>浏览器<\/strong>\s*<br><span class="muted">2026-12-03 09:00 登录<\/span>/, 'a session from before browsers were noted');
  t.regex(body, /<li><strong>商城小程序<\/strong>\s*<br><span class="muted">2026-12-02 09:00 登录<\/span>\s*<form/, 'a mini program\'s logins are named by the app, not a browser, and not listed twice');
  t.regex(body, /退出商城小程序（2026-12-02 09:00 登录）/);
  t.regex(body, /当前登录的设备：4 个/);
});
