// Inside WeChat, the person's page belongs to the WeChat account present. A family shares a
// phone, or a person switches WeChat accounts, and the WeChat browser may keep the broker's
// cookie across the switch; so inside WeChat every view of the page, its export and its
// delete confirmation first go through the page's own sign-in, whose silent snsapi_base
// check (login/same-wechat-account.ts, as for any relying party's login) ends another
// person's session before anything is shown. The sign-in comes back with a `state` this
// browser holds in a cookie, which says what the person was on their way to (the page, the
// export, the delete confirmation). The forms of a view confirmed that way act only for the
// account WeChat confirmed, for a few minutes. Outside WeChat a browser has no such switch,
// and the session is the person.

import type { Context } from 'koa';
import { randomBytes } from 'node:crypto';
import { browserKind } from '../wechat/user-agent.ts';
import { accountSignInUrl } from './client.ts';

/** Where the person was going when the page sent them through its sign-in. */
export type Destination = 'page' | 'export' | 'delete';
const DESTINATIONS: readonly Destination[] = ['page', 'export', 'delete'];

const SIGN_IN_COOKIE = 'account_signin';
const CONFIRMED_COOKIE = 'account_confirmed';
/** How long the forms of a view WeChat confirmed act for its account. */
const CONFIRMED_FOR_MS = 5 * 60_000;
const cookiePath = { path: '/account', httpOnly: true, sameSite: 'lax', signed: true } as const;

export const inWeChat = (ctx: Context): boolean => browserKind(ctx.get('user-agent')) === 'wechat';

/** The page's sign-in URL, remembering in this browser where the person is going. */
export function signInFor(ctx: Context, issuer: string, destination: Destination, forceLogin: boolean): string {
  const state = randomBytes(16).toString('base64url');
  ctx.cookies.set(SIGN_IN_COOKIE, `${state}.${destination}`, { ...cookiePath, maxAge: 10 * 60_000 });
  return accountSignInUrl(issuer, state, forceLogin);
}

/** Where a sign-in that started in this browser was going, when this request is its return (taken once). */
export function returnedFrom(ctx: Context): Destination | undefined {
  const [state, destination] = (ctx.cookies.get(SIGN_IN_COOKIE, { signed: true }) ?? '').split('.');
  if (!state || typeof ctx.query.state !== 'string' || ctx.query.state !== state) return undefined;
  ctx.cookies.set(SIGN_IN_COOKIE, null, cookiePath);
  return DESTINATIONS.find((known) => known === destination);
}

/** WeChat just confirmed that `accountId` is the person present: this browser's forms may act for it a few minutes. */
export function confirmPresent(ctx: Context, accountId: string): void {
  ctx.cookies.set(CONFIRMED_COOKIE, `${accountId}.${Date.now() + CONFIRMED_FOR_MS}`, { ...cookiePath, maxAge: CONFIRMED_FOR_MS });
}

/** Whether a form may act for `accountId`: outside WeChat always; inside, only after WeChat confirmed that account here, recently. */
export function presentConfirmed(ctx: Context, accountId: string): boolean {
  if (!inWeChat(ctx)) return true;
  const value = ctx.cookies.get(CONFIRMED_COOKIE, { signed: true }) ?? '';
  const dot = value.lastIndexOf('.');
  return dot > 0 && value.slice(0, dot) === accountId && Number(value.slice(dot + 1)) > Date.now();
}
