// A login that can no longer go on in this browser (its interaction expired or was never
// this browser's, or WeChat came back with a state the broker did not issue for it) is a
// dead end unless the page offers a fresh start. The interaction, which names the app, is
// gone by then; so the browser keeps the app of the login it last started (a signed cookie,
// a client_id and nothing else), and the page offers "log in to ‹app› again" through the
// app's own initiate_login_uri (OIDC Core 4), and "back to ‹app›".

import type { Context } from 'koa';
import type { ErrorData } from '../pages/error-pages.ts';
import { langOf } from '../pages/html.ts';
import type { Login } from './login.ts';

const COOKIE = 'login_app';

/** As long as anyone could come back to a login page they left: a day. */
const KEPT_MS = 24 * 60 * 60 * 1000;

const OPTIONS = { signed: true, httpOnly: true, sameSite: 'lax', path: '/' } as const;

/** What this module uses of the login. */
export type LostLoginParts = Pick<Login, 'interactions'>;

/** A login of `clientId` starts in this browser. */
export function rememberLoginApp(ctx: Context, clientId: string): void {
  if (ctx.cookies.get(COOKIE, { signed: true }) === clientId) return;
  ctx.cookies.set(COOKIE, clientId, { ...OPTIONS, maxAge: KEPT_MS });
}

/**
 * The page for a login that cannot go on (`interaction`: expired or not this browser's;
 * `state`: WeChat's answer does not belong to it), naming the app this browser last
 * started a login for, with its fresh start where it has one.
 */
export async function lostLoginPage(ctx: Context, login: LostLoginParts, kind: 'interaction' | 'state'): Promise<ErrorData> {
  const clientId = ctx.cookies.get(COOKIE, { signed: true });
  const app = clientId ? await login.interactions.display(clientId, langOf(ctx)) : undefined;
  return { kind, status: 400, ...(app ? { app } : {}) };
}
