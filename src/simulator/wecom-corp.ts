// The simulated WeCom (企业微信): one company with a self-built app, its members (a
// simulated person by the same id as a WeChat user, so that one browser cookie plays
// both), somebody who is not a member, and the codes, tokens and user tickets it issued.
// Behaviour follows ../shared/wecom-and-phone.md part 1: codes single use for 5 minutes,
// user tickets for privateinfo and members in the visible range only (30 minutes),
// `user/get` for visible members only (60011), a userid an admin may change once.

import { randomBytes } from 'node:crypto';
import { randomToken, TOKEN_TTL_S } from './tokens.ts';

export type SimWeComScope = 'snsapi_base' | 'snsapi_privateinfo';

export interface SimMember {
  /** The simulated person (`wxsim_user`) this member is. */
  readonly person: string;
  userid: string;
  readonly name: string;
  readonly email: string;
  readonly mobile: string;
  /** In the app's visible range (可见范围). */
  visible: boolean;
}

export interface SimCorp {
  readonly corpid: string;
  readonly agentid: string;
  readonly secret: string;
  readonly members: SimMember[];
  /** The app's 接收消息服务器 Token and EncodingAESKey, and its URL once set there (where contact changes are pushed). */
  readonly token: string;
  readonly aesKey: string;
  server?: string;
}

interface Issued {
  /** A member (by reference: a later rename shows) or a non-member's person id. */
  readonly member?: SimMember;
  readonly person: string;
  readonly scope: SimWeComScope;
  readonly expiresAt: number;
  used: boolean;
}

const CODE_TTL_MS = 5 * 60_000;
const TICKET_TTL_MS = 1800_000;

/** Alice and Bob are members (Bob outside the app's visible range until a test says otherwise); Chen is not a member. */
export function randomCorp(): SimCorp {
  return {
    corpid: `ww${randomBytes(8).toString('hex')}`,
    agentid: String(1_000_000 + randomBytes(2).readUInt16BE()),
    secret: randomBytes(21).toString('base64url'),
    token: randomBytes(12).toString('hex'),
    // 43 letters and digits, as WeCom's console makes them.
    aesKey: randomBytes(48).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 43),
    members: [
      { person: 'alice', userid: 'WangXiaoAi', name: '王小爱', email: 'xiaoai.wang@example.com', mobile: '13800138000', visible: true },
      { person: 'bob', userid: 'bob.li', name: '李博', email: 'bob.li@example.com', mobile: '+852 91234567', visible: true },
    ],
  };
}

export class SimWeCom {
  readonly corp: SimCorp;
  readonly #codes = new Map<string, Issued>();
  readonly #tickets = new Map<string, Issued>();
  #token: { token: string; expiresAt: number } | undefined;
  /** How many times gettoken answered, for tests. */
  tokenCalls = 0;

  constructor(corp: SimCorp) {
    this.corp = corp;
  }

  member(person: string): SimMember | undefined {
    return this.corp.members.find((member) => member.person === person);
  }

  /** The app's token in force (a new one once it expired, or after `expireToken`). */
  token(): { token: string; expiresIn: number } {
    this.tokenCalls += 1;
    if (!this.#token || this.#token.expiresAt <= Date.now()) this.#token = { token: randomToken(64), expiresAt: Date.now() + TOKEN_TTL_S * 1000 };
    return { token: this.#token.token, expiresIn: Math.floor((this.#token.expiresAt - Date.now()) / 1000) };
  }

  /** 0 for the token in force, else WeCom's errcode: 40014 unknown, 42001 expired. */
  checkToken(token: string | undefined): number {
    if (!this.#token || token !== this.#token.token) return 40014;
    return this.#token.expiresAt <= Date.now() ? 42001 : 0;
  }

  /** The token in force dies early (WeCom says it may): the next call with it gets 42001. */
  expireToken(): void {
    if (this.#token) this.#token = { ...this.#token, expiresAt: Date.now() };
  }

  /** A person authorized the app: a fresh single-use code. */
  issueCode(person: string, scope: SimWeComScope): string {
    const code = randomToken(40);
    const member = this.member(person);
    this.#codes.set(code, { ...(member ? { member } : {}), person, scope, expiresAt: Date.now() + CODE_TTL_MS, used: false });
    return code;
  }

  /** Redeems a code: who it names (and a user ticket where WeCom gives one), or the errcode (40029). */
  redeemCode(code: string | undefined): { member?: SimMember; person: string; userTicket?: string } | number {
    const issued = code === undefined ? undefined : this.#codes.get(code);
    if (!issued || issued.used || issued.expiresAt <= Date.now()) return 40029;
    issued.used = true;
    if (!issued.member) return { person: issued.person };
    if (issued.scope !== 'snsapi_privateinfo' || !issued.member.visible) return { member: issued.member, person: issued.person };
    const ticket = randomToken(48);
    this.#tickets.set(ticket, { ...issued, expiresAt: Date.now() + TICKET_TTL_MS });
    return { member: issued.member, person: issued.person, userTicket: ticket };
  }

  /** The member behind a user ticket, or the errcode: 84015 invalid, 84014 expired. */
  ticket(ticket: string | undefined): SimMember | number {
    const issued = ticket === undefined ? undefined : this.#tickets.get(ticket);
    if (!issued?.member) return 84015;
    return issued.expiresAt <= Date.now() ? 84014 : issued.member;
  }

  /** A non-member's openid in this company (stable, unrelated to WeChat's). */
  openidOf(person: string): string {
    return `wm${Buffer.from(`${this.corp.corpid}:${person}`).toString('base64url').slice(-24)}`;
  }
}
