// What relying parties learn about a person, handed to the provider as its AccountSource:
//
//   openid         → sub (the account id: opaque, stable, never an openid)
//   profile        → name, nickname, picture (https)
//   email          → email, email_verified (OIDC Core 5.4; a WeCom member's, with their consent)
//   phone          → phone_number (E.164), phone_number_verified (OIDC Core 5.4, 5.1)
//   wechat         → wechat_unionid, wechat_openid (the openid in the app of this login)
//   wecom          → wecom_corpid, wecom_userid (a WeCom member: the company and the userid)
//   offline_access → a refresh token
//
// A login records the app it went through as its acr, `urn:wechat:app:<appid>` (OIDC
// Core 2, "acr"), so wechat_openid comes from the login itself and is never guessed; a
// WeCom login's is `urn:wecom:app:<corpid>:<agentid>`.

import type { FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import { suspensionOf, weComCorpidOf, weComMemberOf, type Account, type AccountId } from '../accounts/account.ts';
import type { AccountStore } from '../accounts/store.ts';
import type { ConfiguredApp, ConfiguredWeComApp } from '../wechat/apps.ts';
import type { AccountSource } from '../oidc/provider.ts';
import type { ConsentItem } from '../pages/login-pages.ts';
import type { AppId } from '../wechat/types.ts';
import { sameWeChatAccount } from './same-wechat-account.ts';
import { SILENT_PARAM } from './silent.ts';
import { appsOfClient, WECHAT_APPS } from '../upstreams/choose.ts';
import { consentDetails, requestedScopes, type Interaction } from '../oidc/interactions.ts';

const SCOPES = ['openid', 'offline_access', 'profile', 'email', 'phone', 'wechat', 'wecom'] as const;

const CLAIMS: Readonly<Record<string, readonly string[]>> = {
  openid: ['sub'],
  profile: ['name', 'nickname', 'picture'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  wechat: ['wechat_unionid', 'wechat_openid'],
  wecom: ['wecom_corpid', 'wecom_userid'],
};

/** How the consent page names each claim; the page lists items in this order. */
const CONSENT_OF_CLAIM: Readonly<Record<string, ConsentItem>> = {
  sub: 'account', name: 'nickname', nickname: 'nickname', picture: 'picture', wechat_unionid: 'unionid', wechat_openid: 'openid',
  wecom_corpid: 'wecom', wecom_userid: 'wecom', email: 'email', email_verified: 'email', phone_number: 'phone', phone_number_verified: 'phone',
};
const CONSENT_ORDER: readonly ConsentItem[] = ['account', 'nickname', 'picture', 'email', 'phone', 'unionid', 'openid', 'wecom', 'offline'];

/** The claims a `claims` request parameter asks for (OIDC Core 5.5), from its JSON text. */
function claimsParameterNames(parameter: unknown): string[] {
  let value: unknown = parameter;
  if (typeof parameter === 'string') {
    try {
      value = JSON.parse(parameter);
    } catch {
      return [];
    }
  }
  const members = ['userinfo', 'id_token'].map((key) => (value as Record<string, unknown> | null)?.[key]);
  return members.flatMap((member) => (member && typeof member === 'object' ? Object.keys(member) : []));
}

/**
 * What a client will receive, whichever way it asked: the claims of `scopes` and the claims
 * named besides (a claims parameter's), and a refresh token for offline_access.
 */
export function consentItems(scopes: ReadonlySet<string>, claims: readonly string[] = []): ConsentItem[] {
  const named = new Set([...[...scopes].flatMap((scope) => CLAIMS[scope] ?? []), ...claims]);
  const items = new Set([...named].map((claim) => CONSENT_OF_CLAIM[claim]).filter((item): item is ConsentItem => item !== undefined));
  if (scopes.has('offline_access')) items.add('offline');
  return CONSENT_ORDER.filter((item) => items.has(item));
}

/**
 * What the consent page asks for: what the grant lacks (consent given before, or on WeChat's
 * sheet, is not asked again); everything requested when the relying party asked for the
 * prompt itself (prompt=consent) and nothing is missing.
 */
export function consentItemsOf(interaction: Interaction): ConsentItem[] {
  const { missingOIDCScope = [], missingOIDCClaims = [], missingResourceScopes = {} } = consentDetails(interaction);
  if (missingOIDCScope.length || missingOIDCClaims.length) return consentItems(new Set(missingOIDCScope), missingOIDCClaims);
  // Only an API's scopes are missing: the page asks for those alone.
  if (Object.keys(missingResourceScopes).length) return [];
  return consentItems(requestedScopes(interaction), claimsParameterNames(interaction.params.claims));
}

const ACR_PREFIX = 'urn:wechat:app:';

export function acrForApp(appid: AppId): string {
  return `${ACR_PREFIX}${appid}`;
}

/** A WeCom login's acr: the company and the app. */
export function acrForWeComApp(app: Pick<ConfiguredWeComApp, 'corpid' | 'agentid'>): string {
  return `urn:wecom:app:${app.corpid}:${app.agentid}`;
}

function appOfAcr(acr: unknown): AppId | undefined {
  return typeof acr === 'string' && acr.startsWith(ACR_PREFIX) ? acr.slice(ACR_PREFIX.length) as AppId : undefined;
}

const WECOM_ACR = /^urn:wecom:app:([^:]+):/;

/**
 * The app a session's login went through (its acr), as the account's logins name it: the
 * WeChat AppID, or the account's identity in the WeCom company (a member's or a guest's).
 */
export function loginAppidOf(acr: unknown, account: Account): AppId | undefined {
  const corpid = typeof acr === 'string' ? WECOM_ACR.exec(acr)?.[1] : undefined;
  if (corpid === undefined) return appOfAcr(acr);
  return account.identities.find((identity) => weComCorpidOf(identity) === corpid)?.appid;
}

/**
 * The app of the login behind this request: from the code or refresh token (they carry the
 * login's acr), else from the session the access token belongs to, else the current session.
 * Undefined when that session has ended: wechat_openid is then left out rather than guessed.
 */
async function loginApp(ctx: KoaContextWithOIDC, token: unknown): Promise<AppId | undefined> {
  const fromToken = appOfAcr((token as { acr?: unknown } | undefined)?.acr);
  if (fromToken) return fromToken;
  const sessionUid = (token as { sessionUid?: unknown } | undefined)?.sessionUid;
  if (typeof sessionUid === 'string') {
    const session = await ctx.oidc.provider.Session.findByUid(sessionUid);
    return appOfAcr(session?.acr);
  }
  return appOfAcr(ctx.oidc.session?.acr);
}

function accountClaims(account: Account, sub: string, app: AppId | undefined): Record<string, unknown> {
  const { nickname, picture } = account.profile;
  const { email, phone } = account.contacts ?? {};
  // A WeCom member's account holds that one identity: WeCom gives no unionid to link it with another.
  const member = account.identities.map(weComMemberOf).find((found) => found !== undefined);
  return {
    email: email?.value,
    email_verified: email?.verified,
    phone_number: phone?.value,
    phone_number_verified: phone?.verified,
    wecom_corpid: member?.corpid,
    wecom_userid: member?.userid,
    sub,
    name: nickname || undefined,
    nickname: nickname || undefined,
    picture,
    wechat_unionid: account.unionid,
    wechat_openid: account.identities.find((identity) => identity.appid === app)?.openid,
  };
}

/**
 * oidc-provider's findAccount over the account store; a merged-away sub keeps working. A
 * suspended account is found by none of its tokens while the suspension holds: a refresh is
 * invalid_grant, userinfo invalid_token (oidc-provider's answers for an account that is not there).
 */
function findAccount(store: AccountStore): FindAccount {
  return async (ctx, sub, token) => {
    const account = await store.findById(sub as AccountId);
    if (!account || suspensionOf(account, Date.now())) return undefined;
    return {
      accountId: sub,
      claims: async (_use, scope) => {
        const claims = accountClaims(account, sub, scope.includes('wechat') ? await loginApp(ctx, token) : undefined);
        return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined)) as { sub: string };
      },
    };
  };
}

function wechatAppsMetadata(ids: readonly string[]) {
  return {
    properties: [WECHAT_APPS],
    problem: (key: string, value: unknown) => {
      if (key !== WECHAT_APPS || value === undefined) return undefined;
      const valid = Array.isArray(value) && value.length > 0 && value.every((id) => typeof id === 'string' && ids.includes(id));
      return valid ? undefined : `wechat_apps must list ids of this broker's WeChat apps (${ids.join(', ') || 'none configured'})`;
    },
  };
}

/**
 * Everything the provider needs to know of people, for these apps. With an Official
 * Account (which can confirm people silently inside WeChat), a session is reused inside
 * WeChat only once WeChat confirms it is the same person.
 */
export function accountSource(store: AccountStore, apps: readonly ConfiguredApp[], wecomApps: readonly ConfiguredWeComApp[]): AccountSource {
  return {
    findAccount: findAccount(store),
    scopes: SCOPES,
    claims: CLAIMS,
    acrValues: [...apps.map((app) => acrForApp(app.appid)), ...wecomApps.map(acrForWeComApp)],
    extraParams: [SILENT_PARAM],
    loginChecks: apps.some((app) => app.kind === 'mp') ? [sameWeChatAccount((client) => appsOfClient(apps, client).some((app) => app.kind === 'mp'))] : [],
    clientMetadata: wechatAppsMetadata([...apps, ...wecomApps].map((app) => app.id)),
  };
}
