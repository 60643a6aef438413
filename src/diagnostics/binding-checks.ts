// Whether the apps that should share a person do: WeChat gives one person one unionid only
// across apps bound to one Open Platform account (开放平台账号). An Official Account or a
// mini program says which account it is bound to (`open/get`); a website app cannot be
// asked, so its line is a "?" with how to check by hand.

import type { OfficialAccountTokens } from '../platforms/official-account-tokens.ts';
import type { ConfiguredApp } from '../wechat/apps.ts';
import type { WeChatClient } from '../wechat/client.ts';
import { WeChatError } from '../wechat/errors.ts';
import { fail, ok, unknown, type Check, type Finding } from './findings.ts';

const BIND = {
  zh: '在 open.weixin.qq.com → 管理中心 → 公众账号 / 小程序 中把它绑定到与其他应用相同的开放平台账号（一个公众号或小程序同一时间只能绑定一个）。',
  en: 'Bind it to the same Open Platform account as the other apps at open.weixin.qq.com → 管理中心 → 公众账号 / 小程序 (an account or mini program is bound to one at a time).',
};

async function boundTo(app: ConfiguredApp, wechat: WeChatClient, tokens: OfficialAccountTokens): Promise<string | undefined | WeChatError> {
  try {
    return await tokens.withToken(app, (token) => wechat.openAccount(token, app.appid));
  } catch (error) {
    if (error instanceof WeChatError) return error;
    throw error;
  }
}

export function bindingCheck(apps: readonly ConfiguredApp[], wechat: WeChatClient, tokens: OfficialAccountTokens): Check {
  return {
    name: 'bound',
    run: async () => {
      // A website or mobile app has no token of its own to ask open/get with.
      const askable = apps.filter((app) => app.kind !== 'open' && app.kind !== 'app');
      const answers = await Promise.all(askable.map(async (app) => [app, await boundTo(app, wechat, tokens)] as const));
      const accounts = new Map<string, string[]>();
      for (const [app, account] of answers) if (typeof account === 'string') accounts.set(account, [...accounts.get(account) ?? [], app.id]);
      const most = [...accounts.entries()].sort((a, b) => b[1].length - a[1].length)[0]?.[0];
      const findings: Finding[] = answers.map(([app, account]) => {
        if (account instanceof WeChatError) return unknown('bound', app.id, `open/get failed (errcode ${account.errcode ?? '?'}): the binding could not be read`, BIND);
        if (account === undefined) return fail('bound', app.id, 'bound to no Open Platform account: its people get no unionid, and never match the other apps\'', BIND);
        return account === most || accounts.size === 1
          ? ok('bound', app.id, `bound to Open Platform account ${account}`)
          : fail('bound', app.id, `bound to Open Platform account ${account}, the others to ${most}: one person would be two`, BIND);
      });
      for (const app of apps.filter((candidate) => candidate.kind === 'open' || candidate.kind === 'app')) {
        const [what, page] = app.kind === 'open' ? ['a website app', '网站应用'] : ['a mobile app', '移动应用'];
        findings.push(unknown('bound', app.id, `${what} cannot be asked which Open Platform account it belongs to`, {
          zh: `在 open.weixin.qq.com → 管理中心 → ${page} 中确认它和上面的公众号、小程序在同一个开放平台账号下。`,
          en: `At open.weixin.qq.com → 管理中心 → ${page}, check it is under the same Open Platform account as the accounts and mini programs above.`,
        }));
      }
      return apps.length > 1 ? findings : [];
    },
  };
}
