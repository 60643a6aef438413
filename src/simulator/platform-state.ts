// The simulated WeChat's third-party platforms and what they were given: tickets pushed
// (valid 12 hours), component tokens, pre-authorization codes, accounts' authorization
// codes, refresh tokens and authorizer tokens.

import { randomToken, TOKEN_TTL_S } from './tokens.ts';

/**
 * The permission sets (权限集) an Official Account grants the platform when nothing else is
 * said, by WeChat's ids (公众号权限集, developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/product/offical_account_authority.html):
 * message management 1, user management 2, account service 3, web service 4 (网页服务:
 * web authorization), broadcast 7, material 11, menus 15, Open Platform account management 24.
 */
export const GRANTED_PERMISSIONS: readonly number[] = [1, 2, 3, 4, 7, 11, 15, 24];

/** A component_verify_ticket is valid 12 hours. */
const TICKET_TTL_MS = 12 * 60 * 60_000;

/**
 * A third-party platform (第三方平台) registered at the simulated WeChat: its credentials,
 * message keys, the URLs set in its console, and the Official Accounts that authorized it.
 */
export interface SimPlatform {
  readonly appid: string;
  readonly secret: string;
  /** The message token and the 43-character EncodingAESKey. */
  readonly token: string;
  readonly aesKey: string;
  /** 授权事件接收URL: tickets and authorization events go there. */
  authEventsUrl?: string;
  /** 消息与事件接收URL, with `$APPID$` standing for the account's appid. */
  eventsUrl?: string;
  readonly authorizers: Set<string>;
}

export class SimPlatforms {
  readonly list: readonly SimPlatform[];
  /** Tickets pushed and component tokens issued: value → (platform appid, expiry). */
  readonly #tickets = new Map<string, { platform: string; expiresAt: number }>();
  readonly #componentTokens = new Map<string, { platform: string; expiresAt: number }>();
  readonly #preAuthCodes = new Map<string, { platform: string; expiresAt: number }>();
  /** Authorizations: codes, refresh tokens by `platform|account`, authorizer tokens. */
  readonly #authorizationCodes = new Map<string, { platform: string; account: string; expiresAt: number }>();
  readonly #refreshTokens = new Map<string, string>();
  /** The permission set ids each authorization granted, by `platform|account`. */
  readonly #permissions = new Map<string, readonly number[]>();
  readonly #authorizerTokens = new Map<string, { appid: string; expiresAt: number }>();

  constructor(platforms: readonly SimPlatform[]) {
    this.list = platforms;
  }

  find(appid: string | undefined): SimPlatform | undefined {
    return this.list.find((platform) => platform.appid === appid);
  }

  /** A fresh component_verify_ticket for the platform (the previous ones stay valid until they expire). */
  issueTicket(platform: SimPlatform): string {
    const ticket = `ticket@@@${randomToken(48)}`;
    this.#tickets.set(ticket, { platform: platform.appid, expiresAt: Date.now() + TICKET_TTL_MS });
    return ticket;
  }

  /** A component_access_token for a valid ticket of the platform, or the errcode: 61006 invalid, 61005 expired. */
  issueComponentToken(platform: SimPlatform, ticket: string): string | number {
    const issued = this.#tickets.get(ticket);
    if (!issued || issued.platform !== platform.appid) return 61006;
    if (issued.expiresAt <= Date.now()) return 61005;
    const token = randomToken(48);
    this.#componentTokens.set(token, { platform: platform.appid, expiresAt: Date.now() + TOKEN_TTL_S * 1000 });
    return token;
  }

  /** A pre_auth_code for the platform's authorization page, living 10 minutes. */
  issuePreAuthCode(platform: SimPlatform): string {
    const code = `preauthcode@@@${randomToken(32)}`;
    this.#preAuthCodes.set(code, { platform: platform.appid, expiresAt: Date.now() + 10 * 60_000 });
    return code;
  }

  /** Whether `code` is a live pre_auth_code of the platform; `spend` uses it up. */
  preAuthCode(platform: SimPlatform, code: string, spend = false): boolean {
    const issued = this.#preAuthCodes.get(code);
    const live = issued !== undefined && issued.platform === platform.appid && issued.expiresAt > Date.now();
    if (live && spend) this.#preAuthCodes.delete(code);
    return live;
  }

  /** The platform a component_access_token belongs to, or the errcode: 40001 unknown, 42001 expired. */
  componentToken(token: string): SimPlatform | number {
    const issued = this.#componentTokens.get(token);
    const platform = issued && this.find(issued.platform);
    if (!issued || !platform) return 40001;
    return issued.expiresAt <= Date.now() ? 42001 : platform;
  }

  /** An account authorized the platform, granting `permissions`: the authorization code WeChat hands the platform (10 minutes). */
  authorize(platform: SimPlatform, account: { readonly appid: string }, permissions = GRANTED_PERMISSIONS): string {
    platform.authorizers.add(account.appid);
    this.#permissions.set(`${platform.appid}|${account.appid}`, permissions);
    const code = `queryauthcode@@@${randomToken(24)}`;
    this.#authorizationCodes.set(code, { platform: platform.appid, account: account.appid, expiresAt: Date.now() + 10 * 60_000 });
    return code;
  }

  /** `api_query_auth`: the account of a code, with the authorizer's refresh token; 61010 expired, 61009 invalid. */
  queryAuth(platform: SimPlatform, code: string): { account: string; refreshToken: string } | number {
    const issued = this.#authorizationCodes.get(code);
    if (!issued || issued.platform !== platform.appid) return 61009;
    if (issued.expiresAt <= Date.now()) return 61010;
    const key = `${platform.appid}|${issued.account}`;
    const refreshToken = this.#refreshTokens.get(key) ?? `refreshtoken@@@${randomToken(24)}`;
    this.#refreshTokens.set(key, refreshToken);
    return { account: issued.account, refreshToken };
  }

  /** `api_authorizer_token`: a fresh authorizer token; 61023 when the refresh token is not the authorization's (or it was withdrawn). */
  /** `api_get_authorizer_info`: the authorization's refresh token again and the permissions granted; 61003 when the account has not authorized the platform. */
  authorization(platform: SimPlatform, account: string): { refreshToken: string; permissions: readonly number[] } | number {
    const refreshToken = this.#refreshTokens.get(`${platform.appid}|${account}`);
    return platform.authorizers.has(account) && refreshToken ? { refreshToken, permissions: this.permissions(platform, account) } : 61003;
  }

  /** The permission set ids the account granted the platform (none when it did not authorize it). */
  permissions(platform: SimPlatform, account: string): readonly number[] {
    return platform.authorizers.has(account) ? this.#permissions.get(`${platform.appid}|${account}`) ?? GRANTED_PERMISSIONS : [];
  }

  authorizerToken(platform: SimPlatform, account: string, refreshToken: string): { token: string; expiresIn: number; refreshToken: string } | number {
    if (!platform.authorizers.has(account) || this.#refreshTokens.get(`${platform.appid}|${account}`) !== refreshToken) return 61023;
    const token = randomToken(48);
    this.#authorizerTokens.set(token, { appid: account, expiresAt: Date.now() + TOKEN_TTL_S * 1000 });
    return { token, expiresIn: TOKEN_TTL_S, refreshToken };
  }

  /** The account withdrew its authorization of the platform. */
  unauthorize(platform: SimPlatform, account: string): void {
    platform.authorizers.delete(account);
    this.#refreshTokens.delete(`${platform.appid}|${account}`);
    this.#permissions.delete(`${platform.appid}|${account}`);
  }

  /** The account an authorizer token was issued for, and until when. */
  authorizerOf(token: string): { readonly appid: string; readonly expiresAt: number } | undefined {
    return this.#authorizerTokens.get(token);
  }
}
