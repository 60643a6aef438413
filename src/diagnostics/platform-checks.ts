// Third-party platforms (第三方平台): how old the last component_verify_ticket is (WeChat
// pushes one every 10 minutes to the auth-events URL), whether the component token comes,
// whether each account reached through the platform still authorizes it (61003: not
// authorized), and whether an Official Account granted the platform web authorization
// among its permissions (the 网页服务 permission set; without it WeChat refuses the
// authorization page on the account's behalf).

import type { PlatformTokens } from '../platforms/platform-tokens.ts';
import type { ConfiguredApp, PlatformApp } from '../wechat/apps.ts';
import { WEB_SERVICE_PERMISSION, type PlatformAuthorization, type WeChatClient } from '../wechat/client.ts';
import { WeChatAuthorizationLapsedError, WeChatError } from '../wechat/errors.ts';
import { fail, ok, unknown, type Check, type Finding } from './findings.ts';

/** Two missed pushes and a margin: older than this, WeChat is not reaching the auth-events URL. */
const TICKET_STALE_MS = 25 * 60_000;

export interface PlatformCheckParts {
  readonly issuer: string;
  readonly platforms: readonly PlatformApp[];
  readonly apps: readonly ConfiguredApp[];
  readonly platformTokens: PlatformTokens;
  readonly wechat: WeChatClient;
  /** Where tickets are kept: in memory another process (this doctor) cannot see them. */
  readonly ticketsShared: boolean;
}

async function ticketFinding(parts: PlatformCheckParts, platform: PlatformApp): Promise<Finding> {
  const events = `${parts.issuer}/wechat/platform/${platform.id}/auth-events`;
  const advice = {
    zh: `在 open.weixin.qq.com → 管理中心 → 第三方平台 → 开发资料 中核对“授权事件接收URL”为 ${events}，消息校验Token 和 EncodingAESKey 与配置一致，并确认服务器能从外网访问。`,
    en: `At open.weixin.qq.com → 管理中心 → 第三方平台 → 开发资料, check that the 授权事件接收URL is ${events}, that its Token and EncodingAESKey match the configuration, and that the server is reachable from outside.`,
  };
  if (!parts.ticketsShared) return unknown('platform-ticket', platform.id, 'the broker keeps tickets in memory, out of this process\'s sight: its /readyz says whether one came', advice);
  const at = await parts.platformTokens.ticketReceivedAt(platform.id);
  if (at === undefined) return fail('platform-ticket', platform.id, 'no component_verify_ticket in the last 12 hours', advice);
  const ageMin = Math.round((Date.now() - at) / 60_000);
  return Date.now() - at <= TICKET_STALE_MS
    ? ok('platform-ticket', platform.id, `the last component_verify_ticket came ${ageMin} min ago (WeChat pushes one every 10 minutes)`)
    : fail('platform-ticket', platform.id, `the last component_verify_ticket came ${ageMin} min ago: WeChat pushes one every 10 minutes`, advice);
}

async function tokenFinding(parts: PlatformCheckParts, platform: PlatformApp): Promise<Finding> {
  try {
    await parts.platformTokens.token(platform.id);
    return ok('platform-token', platform.id, 'component_access_token in hand');
  } catch (error) {
    if (!(error instanceof WeChatError)) throw error;
    return fail('platform-token', platform.id, `errcode ${error.errcode ?? '?'}: ${error.message}`, {
      zh: '核对第三方平台的 AppID 和 AppSecret（open.weixin.qq.com → 管理中心 → 第三方平台 → 详情），以及白名单IP地址列表。',
      en: 'Check the platform\'s AppID and AppSecret (open.weixin.qq.com → 管理中心 → 第三方平台 → details) and its IP whitelist (白名单IP地址列表).',
    });
  }
}

/**
 * WeChat is asked (`api_get_authorizer_info`), not the token the broker may still hold from
 * before a withdrawal: the authorization, and for an Official Account its web service permission.
 */
async function authorizerFindings(parts: PlatformCheckParts, app: ConfiguredApp, platform: PlatformApp): Promise<Finding[]> {
  let authorization: PlatformAuthorization;
  try {
    authorization = await parts.platformTokens.withToken(platform.id, (token) => parts.wechat.authorization(platform.appid, token, app.appid));
    if (authorization.refreshToken === undefined) throw new WeChatAuthorizationLapsedError('no authorization', { errcode: 61003 });
  } catch (error) {
    if (!(error instanceof WeChatError)) throw error;
    const again = `${parts.issuer}/wechat/platform/${app.via}/authorize`;
    return [fail('authorization', app.id, `errcode ${error.errcode ?? '?'}: ${app.appid} does not (or no longer) authorize platform ${app.via}`, {
      zh: `请公众号管理员打开 ${again} 扫码重新授权（61003 表示未授权）。`, en: `Have the account's administrator open ${again} and authorize the platform again (61003: not authorized).`,
    })];
  }
  const authorized = ok('authorization', app.id, `${app.appid} authorizes third-party platform ${app.via}`);
  if (app.kind !== 'mp') return [authorized];
  return [authorized, authorization.permissions.includes(WEB_SERVICE_PERMISSION)
    ? ok('web-authorization', app.id, 'the authorization includes web service (网页服务, permission set 4): web authorization on the account\'s behalf')
    : fail('web-authorization', app.id, `the authorization lacks web service (网页服务, permission set ${WEB_SERVICE_PERMISSION}): WeChat refuses web authorization on the account's behalf`, {
      zh: `在 open.weixin.qq.com → 第三方平台 → 权限集 中勾选“网页服务”，再请公众号管理员打开 ${parts.issuer}/wechat/platform/${app.via}/authorize 扫码重新授权，并在授权页上保留“网页服务”。`,
      en: `At open.weixin.qq.com → 第三方平台 → 权限集, include 网页服务 (web service); then have the account's administrator open ${parts.issuer}/wechat/platform/${app.via}/authorize and authorize again, keeping 网页服务 ticked.`,
    })];
}

export function platformChecks(parts: PlatformCheckParts): Check[] {
  return parts.platforms.map((platform) => ({
    name: `platform ${platform.id}`,
    run: async () => {
      const reached = parts.apps.filter((app) => app.via === platform.id);
      const ticket = await ticketFinding(parts, platform);
      const token = ticket.verdict === 'fail' ? [] : [await tokenFinding(parts, platform)];
      const authorizers = token[0]?.verdict === 'ok' ? await Promise.all(reached.map((app) => authorizerFindings(parts, app, platform))) : [];
      return [ticket, ...token, ...authorizers.flat()];
    },
  }));
}
