// Inside WeChat, a first login that needs the person's nickname and avatar goes through
// WeChat's authorization sheet (snsapi_userinfo): WeChat names the Official Account, lists
// 昵称、头像, and the person taps 允许. The broker's consent page straight after it would
// ask the same thing twice. It is left out only where the sheet really asked the same:
//
//  - this interaction's login went to WeChat with snsapi_userinfo: WeChat showed its sheet
//    (or let it pass for a follower who came from the account's own menu, someone who
//    knows the account);
//  - the account is the relying party's own: the operator lists the client in the app's
//    `sheet_consent_for`. The sheet named the party that gets the data. For any other
//    client the broker's page stays, naming the recipient, as PIPL art. 23 asks before
//    personal information goes to another handler;
//  - the relying party did not ask for the prompt itself (`prompt=consent`);
//  - only what the sheet lists: `openid` (the identity any authorization gives the
//    account) and `profile` (昵称、头像). `wechat` (the unionid, which follows the person
//    across the company's apps) and `offline_access` (a refresh token, which OIDC Core 11
//    wants asked with prompt=consent) are never covered: the consent page then asks for
//    those alone.

import type { ConfiguredApp } from '../wechat/apps.ts';
import { requestedScopes, type Interaction } from '../oidc/interactions.ts';
import type { Attempt } from './attempts.ts';

/** What WeChat's snsapi_userinfo sheet tells the person the account will get. */
const SHEET_LISTS: ReadonlySet<string> = new Set(['openid', 'profile']);

/** The requested scopes WeChat's sheet asked the person for, on the relying party's behalf; empty when it asked for none. */
export function scopesTheSheetAsked(app: ConfiguredApp, attempt: Pick<Attempt, 'channel' | 'scope'>, interaction: Interaction): string[] {
  const clientId = String(interaction.params.client_id);
  const prompts = String(interaction.params.prompt ?? '').split(' ');
  const sheet = attempt.channel === 'web' && attempt.scope === 'snsapi_userinfo';
  if (!sheet || !app.sheetConsentFor?.includes(clientId) || prompts.includes('consent')) return [];
  return [...requestedScopes(interaction)].filter((scope) => SHEET_LISTS.has(scope));
}
