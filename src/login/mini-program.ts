// A mini program's login: it cannot follow redirects, so it (or its backend) exchanges the
// one-time `js_code` of `wx.login()` at the token endpoint (RFC 8693, oidc/token-exchange.ts):
//   grant_type=urn:ietf:params:oauth:grant-type:token-exchange
//   subject_token=<js_code>  subject_token_type=urn:wechat:params:oauth:token-type:js_code
// The client's `wechat_apps` names the mini program. WeChat's jscode2session gives the
// openid (and the unionid when the mini program is bound to the Open Platform account),
// which links exactly as every other login: one person, one `sub`. Its session_key never
// leaves wechat/. Failures are OAuth errors for the client: a js_code WeChat refuses, or
// a person it blocked, is `invalid_request` (RFC 8693 2.2.2: an invalid or unacceptable
// subject_token MUST be), WeChat's limits and outages `temporarily_unavailable`, wrong
// app credentials `server_error` with an operator log line.

import { errors } from 'oidc-provider';
import type { AccountLinker } from '../accounts/linking.ts';
import type { ConfiguredApp } from '../wechat/apps.ts';
import type { Logger } from '../log.ts';
import type { ExchangedSubject, SubjectTokens } from '../oidc/token-exchange.ts';
import type { BrokerMetrics } from '../ops/metrics.ts';
import { MiniProgramSignIn } from '../upstreams/wechat-mini/mini-program-sign-in.ts';
import { WeChatError } from '../wechat/errors.ts';
import { isWeChatCode, type DirectApp, type WeChatUser } from '../wechat/types.ts';
import { acrForApp } from './claims.ts';
import { factsOf } from './carry-out.ts';
import { linkingRefusal } from './linking-refusals.ts';
import { appsOfClient } from '../upstreams/choose.ts';
import { failureOf, wechatFields } from '../wechat/failures.ts';

export const JS_CODE_TOKEN_TYPE = 'urn:wechat:params:oauth:token-type:js_code';

export interface MiniProgramParts {
  readonly apps: readonly ConfiguredApp[];
  readonly signIn: MiniProgramSignIn;
  readonly linker: AccountLinker;
  readonly log: Logger;
  readonly metrics: BrokerMetrics;
}

type MiniProgram = ConfiguredApp & DirectApp;

/** The client's mini program: the first of its `wechat_apps` (of all apps by default). */
function miniProgramOf(apps: readonly ConfiguredApp[], client: Readonly<Record<string, unknown>>): MiniProgram {
  const app = appsOfClient(apps, client).find((candidate) => candidate.kind === 'miniprogram');
  if (!app || !MiniProgramSignIn.usable(app)) throw new errors.UnauthorizedClient('the client has no mini program among its wechat_apps');
  return app;
}

/** The OAuth error for what WeChat said (by the one policy, wechat/failures.ts); the operator hears why. */
function oauthError(error: WeChatError, app: MiniProgram, log: Logger): Error {
  const { kind, note } = failureOf(error, app);
  log[note.level]({ app: app.id, wechat: wechatFields(error) }, `mini program login: ${note.msg}`);
  switch (kind) {
    case 'code':
      return new errors.InvalidRequest('the js_code is invalid, expired or already used');
    case 'refused':
      return new errors.InvalidRequest('WeChat blocked this user as high-risk (40226); they cannot log in through WeChat now');
    case 'unavailable':
    case 'starting':
      return new errors.TemporarilyUnavailable('WeChat is temporarily unavailable; try again in a minute');
    case 'snapshot':
    case 'misconfigured':
      return new errors.CustomOIDCProviderError('server_error', 'the login service is misconfigured');
  }
}

async function signIn(parts: MiniProgramParts, app: MiniProgram, code: string): Promise<WeChatUser> {
  try {
    return await parts.signIn.complete(app, code);
  } catch (error) {
    if (!(error instanceof WeChatError)) throw error;
    parts.metrics.login(parts.signIn.way, error.code === 'WECHAT_CODE_REJECTED' ? 'code_rejected' : 'unavailable');
    throw oauthError(error, app, parts.log);
  }
}

export function miniProgramLogins(parts: MiniProgramParts): SubjectTokens {
  return {
    types: [JS_CODE_TOKEN_TYPE],
    async resolve(code, _type, client): Promise<ExchangedSubject> {
      const app = miniProgramOf(parts.apps, client);
      if (!isWeChatCode(code)) throw new errors.InvalidRequest('subject_token is not a js_code');
      const user = await signIn(parts, app, code);
      try {
        const account = await parts.linker.resolve(factsOf(user, typeof client.client_id === 'string' ? client.client_id : undefined));
        parts.metrics.login(parts.signIn.way, 'success');
        parts.log.info({ app: app.id, account: account.id }, 'mini program login succeeded');
        return { accountId: account.id, amr: [`wechat_${parts.signIn.way}`], acr: acrForApp(app.appid) };
      } catch (error) {
        const refused = linkingRefusal(error);
        if (!refused) throw error;
        parts.metrics.login(parts.signIn.way, refused.metric);
        parts.log[refused.note.level]({ app: app.id }, `mini program login: ${refused.note.msg}`);
        throw refused.metric === 'account_busy'
          ? new errors.TemporarilyUnavailable('the login could not be recorded now; try again')
          : new errors.InvalidRequest('this WeChat identity conflicts with an existing account');
      }
    },
  };
}
