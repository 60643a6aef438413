// Where an Official Account's administrator authorizes the company's third-party platform
// (the platform's 授权发起页, on the broker's domain, which is registered for it):
//   GET /wechat/platform/:id/authorize    a page linking to WeChat's authorization page
//                                         with a fresh pre_auth_code (valid 10 minutes)
//   GET /wechat/platform/:id/authorized   where WeChat sends the administrator back; the
//                                         `authorized` event itself arrives at auth-events
// Being authorized gives nobody anything by itself: an account logs people in only once
// the operator lists it in WECHAT_APPS_FILE with `via`.

import Router from '@koa/router';
import type { Context } from 'koa';
import type { PlatformApp } from '../wechat/apps.ts';
import type { Logger } from '../log.ts';
import { errorPage } from '../pages/error-pages.ts';
import { platformAuthorizedPage, platformAuthorizePage } from '../pages/platform-pages.ts';
import { platformAuthorizeUrl } from '../wechat/authorize.ts';
import type { WeChatClient } from '../wechat/client.ts';
import { WeChatError } from '../wechat/errors.ts';
import { isWeChatCode } from '../wechat/types.ts';
import type { OfficialAccountTokens } from './official-account-tokens.ts';
import { failurePage } from '../pages/failure-pages.ts';
import type { PlatformTokens } from './platform-tokens.ts';
import { failureOf, wechatFields } from '../wechat/failures.ts';

export interface PlatformAuthorizeParts {
  readonly platforms: readonly PlatformApp[];
  readonly tokens: PlatformTokens;
  /** Keeps the authorization WeChat's redirect carries (its push carries it too). */
  readonly officialAccountTokens: OfficialAccountTokens;
  readonly wechat: WeChatClient;
  readonly issuer: string;
  /** mp.weixin.qq.com (or the simulator). */
  readonly mpUrl: string;
  readonly log: Logger;
}

async function authorizePage(ctx: Context, parts: PlatformAuthorizeParts): Promise<void> {
  const platform = parts.platforms.find((candidate) => candidate.id === ctx.params.id);
  if (!platform) return errorPage(ctx, { kind: 'not_found', status: 404 });
  try {
    const preAuthCode = await parts.tokens.withToken(platform.id, (token) => parts.wechat.preAuthCode(platform.appid, token));
    ctx.set('cache-control', 'no-store');
    platformAuthorizePage(ctx, platformAuthorizeUrl(parts.mpUrl, {
      componentAppid: platform.appid, preAuthCode, redirectUri: `${parts.issuer}/wechat/platform/${platform.id}/authorized`,
    }));
  } catch (error) {
    if (!(error instanceof WeChatError)) throw error;
    const { kind, note } = failureOf(error, { id: platform.id, via: platform.id, configuredBy: `WECHAT_APPS_FILE (app ${platform.id})` });
    parts.log[note.level]({ platform: platform.id, wechat: wechatFields(error) }, `platform authorization page: no pre_auth_code: ${note.msg}`);
    errorPage(ctx, failurePage(kind, ctx.path));
  }
}

async function authorized(ctx: Context, parts: PlatformAuthorizeParts): Promise<void> {
  const platform = parts.platforms.find((candidate) => candidate.id === ctx.params.id);
  if (!platform) return errorPage(ctx, { kind: 'not_found', status: 404 });
  parts.log.info({ platform: platform.id }, 'back from WeChat\'s platform authorization page');
  const code = ctx.query.auth_code;
  if (isWeChatCode(code)) {
    // The same authorization as the `authorized` push: kept now too, whichever comes first.
    await parts.officialAccountTokens.authorized(platform.id, code).catch((error: unknown) => {
      if (!(error instanceof WeChatError)) throw error;
      parts.log.warn({ platform: platform.id, wechat: { errcode: error.errcode, rid: error.requestId } }, 'could not keep the account\'s authorization');
    });
  }
  platformAuthorizedPage(ctx);
}

export function platformAuthorizationRoutes(parts: PlatformAuthorizeParts): Router {
  const router = new Router();
  router.get('/wechat/platform/:id/authorize', (ctx) => authorizePage(ctx, parts));
  router.get('/wechat/platform/:id/authorized', (ctx) => authorized(ctx, parts));
  return router;
}
