// Every WeChat and WeCom app's credentials, checked without disturbing running instances:
// an Official Account or a mini program through `stable_token` (the token in force: never
// `/cgi-bin/token`, never `force_refresh`, so nobody's token is cut off); a website app by
// exchanging a code that cannot exist (40029 means WeChat took the appid and AppSecret as a
// pair; 40013 or 40125 name which is wrong); a WeCom app through `gettoken`. A whitelist
// refusal names the IP WeChat saw. An account reached through a third-party platform is
// platform-checks.ts's.

import type { ConfiguredApp, ConfiguredWeComApp } from '../wechat/apps.ts';
import type { WeChatClient } from '../wechat/client.ts';
import { WeChatCodeRejectedError, WeChatError } from '../wechat/errors.ts';
import type { WeComClient } from '../wechat/wecom.ts';
import { fail, ok, type Advice, type Check, type Finding } from './findings.ts';

/** Where each kind of app keeps its id, secret and IP whitelist, in its console's words. */
const CONSOLE: Record<ConfiguredApp['kind'] | 'wecom', { readonly zh: string; readonly en: string; readonly ip?: { readonly zh: string; readonly en: string } }> = {
  mp: {
    zh: 'mp.weixin.qq.com → 设置与开发 → 基本配置', en: 'mp.weixin.qq.com → 设置与开发 (Settings and development) → 基本配置 (Basic configuration)',
    ip: { zh: 'mp.weixin.qq.com → 设置与开发 → 基本配置 → IP白名单', en: 'mp.weixin.qq.com → 设置与开发 → 基本配置 → IP白名单 (IP whitelist)' },
  },
  miniprogram: {
    zh: 'mp.weixin.qq.com → 开发管理 → 开发设置', en: 'mp.weixin.qq.com → 开发管理 (Development) → 开发设置 (Development settings)',
    ip: { zh: 'mp.weixin.qq.com → 开发管理 → 开发设置 → IP白名单', en: 'mp.weixin.qq.com → 开发管理 → 开发设置 → IP白名单 (IP whitelist)' },
  },
  open: { zh: 'open.weixin.qq.com → 管理中心 → 网站应用 → 该应用', en: 'open.weixin.qq.com → 管理中心 (Management) → 网站应用 (Website apps) → the app' },
  app: { zh: 'open.weixin.qq.com → 管理中心 → 移动应用 → 该应用', en: 'open.weixin.qq.com → 管理中心 (Management) → 移动应用 (Mobile apps) → the app' },
  wecom: {
    zh: '企业微信管理后台 → 应用管理 → 该应用（企业ID 在“我的企业 → 企业信息”）', en: 'WeCom admin console → 应用管理 (Apps) → the app (the CorpID is under 我的企业 → 企业信息)',
    ip: { zh: '企业微信管理后台 → 应用管理 → 该应用 → 企业可信IP', en: 'WeCom admin console → 应用管理 → the app → 企业可信IP (trusted IPs)' },
  },
};

type Probed = Pick<ConfiguredApp, 'id' | 'configuredBy'> & { readonly kind: ConfiguredApp['kind'] | 'wecom' };

/** What a refusal of the app's credentials means, and where to mend it. */
function refused(app: Probed, error: WeChatError): Finding {
  const where = CONSOLE[app.kind];
  const setting = app.configuredBy;
  const seen = `errcode ${error.errcode ?? '?'}${error.requestId ? ` (rid ${error.requestId})` : ''}`;
  switch (error.errcode) {
    case 40013:
      return fail('credentials', app.id, `${seen}: WeChat does not know this appid`, { zh: `AppID 不对：在 ${where.zh} 核对，改正 ${setting}。`, en: `The appid is wrong: check it at ${where.en} and correct ${setting}.` });
    case 40001: case 40125: case 40091:
      return fail('credentials', app.id, `${seen}: the secret is not this app's`, { zh: `AppSecret 不对（可能被同事重置过）：在 ${where.zh} 重置或查看，更新 ${setting}。`, en: `The secret is wrong (perhaps a colleague reset it): reset or read it at ${where.en} and update ${setting}.` });
    case 40164: case 61004: case 60020:
      return fail('ip-whitelist', app.id, `${seen}: this server's IP${error.callerIp ? ` ${error.callerIp}` : ''} is not allowed`, ipAdvice(app, error.callerIp));
    default:
      return fail('credentials', app.id, `${seen}: ${error.message}`, { zh: `微信拒绝了这个应用的凭证：按错误码在 ${where.zh} 检查。`, en: `WeChat refused the app's credentials: look the errcode up and check ${where.en}.` });
  }
}

function ipAdvice(app: Probed, ip: string | undefined): Advice {
  const where = CONSOLE[app.kind].ip ?? CONSOLE[app.kind];
  const which = ip ?? 'this server\'s egress IP';
  return { zh: `把 ${ip ?? '本服务的出口 IP'} 加到 ${where.zh}（几分钟后生效）。`, en: `Add ${which} at ${where.en} (it takes effect within minutes).` };
}

async function probe(app: Probed, call: () => Promise<string>): Promise<Finding> {
  try {
    return ok('credentials', app.id, await call());
  } catch (error) {
    if (!(error instanceof WeChatError)) throw error;
    return refused(app, error);
  }
}

/** An account or mini program with its own secret: stable_token gives the token in force, renewing nothing. */
function directCheck(app: ConfiguredApp & { readonly secret: string }, wechat: WeChatClient): Check {
  return { name: `credentials ${app.id}`, run: async () => [await probe(app, async () => { await wechat.stableToken(app); return 'stable_token answered: the appid and AppSecret are right'; })] };
}

/** A website or mobile app: a code that cannot exist; 40029 means WeChat took the appid and AppSecret as a pair. */
function websiteCheck(app: ConfiguredApp & { readonly secret: string }, wechat: WeChatClient): Check {
  return {
    name: `credentials ${app.id}`,
    run: async () => [await probe(app, async () => {
      try {
        await wechat.exchangeCode(app, 'doctor-probe-not-a-real-code');
      } catch (error) {
        if (error instanceof WeChatCodeRejectedError) return `a code that cannot exist got errcode ${error.errcode}: the appid and AppSecret are a pair`;
        throw error;
      }
      return 'WeChat accepted a code that cannot exist: the app answers, but this says nothing of its secret';
    })],
  };
}

function wecomCheck(app: ConfiguredWeComApp, wecom: WeComClient): Check {
  return { name: `credentials ${app.id}`, run: async () => [await probe(app, async () => { await wecom.token(app); return 'gettoken answered: the CorpID and the app\'s Secret are right'; })] };
}

/** The credential checks of every app with its own secret (those reached through a platform are checked with the platform). */
export function appChecks(apps: readonly ConfiguredApp[], wecomApps: readonly ConfiguredWeComApp[], wechat: WeChatClient, wecom: WeComClient): Check[] {
  const own = apps.filter((app): app is ConfiguredApp & { readonly secret: string } => app.secret !== undefined);
  return [
    // A mobile app, like a website app, has no token of its own to ask for: its code exchange answers.
    ...own.map((app) => (app.kind === 'open' || app.kind === 'app' ? websiteCheck(app, wechat) : directCheck(app, wechat))),
    ...wecomApps.map((app) => wecomCheck(app, wecom)),
  ];
}
