// The logins of apps that cannot follow redirects: a mini program (or its backend) exchanges
// the one-time `js_code` of `wx.login()`, and a mobile app (or its backend) the `code` WeChat's
// OpenSDK handed it (SendAuth), at the token endpoint (RFC 8693, oidc/token-exchange.ts):
//   grant_type=urn:ietf:params:oauth:grant-type:token-exchange
//   subject_token=<the code>
//   subject_token_type=urn:wechat:params:oauth:token-type:js_code (a mini program)
//                    | urn:wechat:params:oauth:token-type:app_code (a mobile app)
// The client's `wechat_apps` names the app of that kind. WeChat gives the openid (and the
// unionid when the app is bound to the Open Platform account), which links exactly as every
// other login: one person, one `sub`. A mini program's session_key never leaves wechat/.
// Failures are OAuth errors for the client: a code WeChat refuses, or a person it blocked,
// is `invalid_request` (RFC 8693 2.2.2: an invalid or unacceptable subject_token MUST be),
// WeChat's limits and outages `temporarily_unavailable`, wrong app credentials
// `server_error` with an operator log line.

import { errors } from 'oidc-provider';
import type { AccountLinker } from '../accounts/linking.ts';
import { AccountSuspendedError } from '../accounts/store.ts';
import type { ConfiguredApp } from '../wechat/apps.ts';
import type { Logger } from '../log.ts';
import type { ExchangedSubject, SubjectTokens } from '../oidc/token-exchange.ts';
import type { BrokerMetrics } from '../ops/metrics.ts';
import type { Upstream } from '../upstreams/upstream.ts';
import type { MobileAppSignIn } from '../upstreams/wechat-app/mobile-app-sign-in.ts';
import type { MiniProgramSignIn } from '../upstreams/wechat-mini/mini-program-sign-in.ts';
import { WeChatError } from '../wechat/errors.ts';
import { isWeChatCode, type DirectApp, type WeChatUser } from '../wechat/types.ts';
import { acrForApp } from './claims.ts';
import { factsOf } from './carry-out.ts';
import { linkingRefusal } from './linking-refusals.ts';
import { appsOfClient } from '../upstreams/choose.ts';
import { failureOf, wechatFields } from '../wechat/failures.ts';

const JS_CODE_TOKEN_TYPE = 'urn:wechat:params:oauth:token-type:js_code';
/** A mobile app's code from WeChat's OpenSDK (SendAuth.Resp's `code`). */
const APP_CODE_TOKEN_TYPE = 'urn:wechat:params:oauth:token-type:app_code';

/** A way in that turns an app's one-time code into the person: a mini program's, a mobile app's. */
type CodeSignIn = Upstream<string, ConfiguredApp & DirectApp> & { readonly kind: 'miniprogram' | 'app' };

export interface CodeExchangeParts {
  readonly apps: readonly ConfiguredApp[];
  readonly miniProgram: MiniProgramSignIn;
  readonly mobileApp: MobileAppSignIn;
  readonly linker: AccountLinker;
  readonly log: Logger;
  readonly metrics: BrokerMetrics;
}

type CodeApp = ConfiguredApp & DirectApp;

/** One exchange's way in and words: which app kind, what its code is called in errors and logs. */
interface Exchange {
  readonly signIn: CodeSignIn;
  readonly what: string;
  readonly code: string;
}

/** What each subject token type is: its way in, and the words an error uses for it. */
function exchanges(parts: CodeExchangeParts): Record<string, Exchange> {
  return {
    [JS_CODE_TOKEN_TYPE]: { signIn: parts.miniProgram, what: 'mini program', code: 'js_code' },
    [APP_CODE_TOKEN_TYPE]: { signIn: parts.mobileApp, what: 'mobile app', code: 'code' },
  };
}

/** The client's app of the kind: the first of its `wechat_apps` (of all apps by default) with its own secret. */
function appOf(apps: readonly ConfiguredApp[], client: Readonly<Record<string, unknown>>, { signIn, what }: Exchange): CodeApp {
  const app = appsOfClient(apps, client).find((candidate) => candidate.kind === signIn.kind);
  if (!app || app.secret === undefined) throw new errors.UnauthorizedClient(`the client has no ${what} among its wechat_apps`);
  return app as CodeApp;
}

/** The OAuth error for what WeChat said (by the one policy, wechat/failures.ts); the operator hears why. */
function oauthError(error: WeChatError, app: CodeApp, exchange: Exchange, log: Logger): Error {
  const { kind, note } = failureOf(error, app);
  log[note.level]({ app: app.id, wechat: wechatFields(error) }, `${exchange.what} login: ${note.msg}`);
  switch (kind) {
    case 'code':
      return new errors.InvalidRequest(`the ${exchange.code} is invalid, expired or already used`);
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

async function signIn(parts: CodeExchangeParts, exchange: Exchange, app: CodeApp, code: string): Promise<WeChatUser> {
  try {
    return await exchange.signIn.complete(app, code);
  } catch (error) {
    if (!(error instanceof WeChatError)) throw error;
    parts.metrics.login(exchange.signIn.way, error.code === 'WECHAT_CODE_REJECTED' ? 'code_rejected' : 'unavailable');
    throw oauthError(error, app, exchange, parts.log);
  }
}

/** The person WeChat vouched for, linked to their account (one person, one `sub`). */
async function linked(parts: CodeExchangeParts, exchange: Exchange, app: CodeApp, user: WeChatUser, clientId: string | undefined): Promise<ExchangedSubject> {
  const { way } = exchange.signIn;
  try {
    const account = await parts.linker.resolve(factsOf(user, clientId));
    parts.metrics.login(way, 'success');
    parts.log.info({ app: app.id, account: account.id }, `${exchange.what} login succeeded`);
    return { accountId: account.id, amr: [`wechat_${way}`], acr: acrForApp(app.appid) };
  } catch (error) {
    const refused = linkingRefusal(error);
    if (!refused) throw error;
    parts.metrics.login(way, refused.metric);
    parts.log[refused.note.level]({ app: app.id }, `${exchange.what} login: ${refused.note.msg}`);
    if (refused.metric === 'account_busy') throw new errors.TemporarilyUnavailable('the login could not be recorded now; try again');
    // As a refresh of a token whose account is no longer there (RFC 6749 5.2), saying why,
    // which oidc-provider's own description does not: the app can tell the person.
    if (error instanceof AccountSuspendedError) throw Object.assign(new errors.InvalidGrant(error.message), { error_description: error.message });
    throw new errors.InvalidRequest('this WeChat identity conflicts with an existing account');
  }
}

/** The subject token types of the configured kinds of app (none: no token exchange at all). */
export function codeExchangeLogins(parts: CodeExchangeParts): SubjectTokens | undefined {
  const known = exchanges(parts);
  const types = Object.keys(known).filter((type) => parts.apps.some((app) => app.kind === known[type]!.signIn.kind));
  if (types.length === 0) return undefined;
  return {
    types,
    async resolve(code, type, client): Promise<ExchangedSubject> {
      const exchange = known[type]!;
      const app = appOf(parts.apps, client, exchange);
      if (!isWeChatCode(code)) throw new errors.InvalidRequest(`subject_token is not a ${exchange.code}`);
      const user = await signIn(parts, exchange, app, code);
      return linked(parts, exchange, app, user, typeof client.client_id === 'string' ? client.client_id : undefined);
    },
  };
}
