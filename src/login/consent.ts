// The person's own answers: POST /interaction/:uid/consent (the consent page) and
// POST /interaction/:uid/cancel ("back to the app" on any login page).

import type { Context } from 'koa';
import type { AccountId } from '../accounts/account.ts';
import { browserName } from '../http/browser-name.ts';
import { readForm } from '../http/read-body.ts';
import { errorPage } from '../pages/error-pages.ts';
import type { Login } from './login.ts';
import { send } from './answer.ts';
import { lostLoginPage } from './lost-login.ts';
import { DEVICE_PROMPT } from '../oidc/device-flow.ts';
import { consentDetails, type Interaction } from '../oidc/interactions.ts';
import { loginAppidOf } from './claims.ts';

/** What this module uses of the login: its functions can reach nothing else. */
export type ConsentParts = Pick<Login, 'end' | 'interactions' | 'linker' | 'log' | 'metrics'>;

const DENIED = { error: 'access_denied', error_description: 'End-User denied the request' } as const;
const NOT_ME = { error: 'access_denied', error_description: 'End-User aborted interaction' } as const;
const CANCELLED = { error: 'access_denied', error_description: 'End-User cancelled the login' } as const;

/** POST /interaction/:uid/cancel — "back to the app": the relying party gets access_denied with its state. */
export async function cancelLogin(ctx: Context, login: ConsentParts): Promise<void> {
  const interaction = await login.interactions.find(ctx, String(ctx.params.uid));
  if (!interaction) return errorPage(ctx, await lostLoginPage(ctx, login, 'interaction'));
  send(ctx, await login.end(ctx, CANCELLED));
}

/**
 * The consent page's answer; for a device's login (RFC 8628) the device's confirmation too.
 * "Not me" is access_denied, which oidc-provider records on the device code: the device's
 * next poll gets it (8628 3.5).
 */
export async function answerConsent(ctx: Context, login: ConsentParts): Promise<void> {
  const interaction = await login.interactions.find(ctx, String(ctx.params.uid));
  const accountId = interaction?.session?.accountId;
  const prompt = interaction?.prompt.name;
  if (!interaction || (prompt !== 'consent' && prompt !== DEVICE_PROMPT) || !accountId) return errorPage(ctx, await lostLoginPage(ctx, login, 'interaction'));
  const device = interaction.deviceCode !== undefined;
  const form = await readForm(ctx);
  const allowed = form.get('decision') === 'allow';
  if (prompt === 'consent') auditConsent(login, interaction, accountId, allowed ? 'page' : 'refused');
  if (device) login.metrics.deviceConfirmation(allowed ? 'confirmed' : 'refused');
  if (!allowed) return send(ctx, await login.end(ctx, device ? NOT_ME : DENIED));
  const consent = prompt === 'consent' ? { consent: { grantId: await login.interactions.grantConsent(interaction, accountId) } } : {};
  const answer = await login.end(ctx, { ...consent, ...(device ? { [DEVICE_PROMPT]: { confirmed: true } } : {}) }, true);
  if (device) await deviceConfirmed(ctx, login, interaction, accountId as AccountId);
  send(ctx, answer);
}

/**
 * The device's login on the person's list of logins (accounts/linking.ts `deviceConfirmed`):
 * for the device's client, through the app of the session that confirmed it, in this browser.
 */
async function deviceConfirmed(ctx: Context, login: ConsentParts, interaction: Interaction, accountId: AccountId): Promise<void> {
  const account = await login.linker.byId(accountId);
  const appid = account && loginAppidOf(interaction.session?.acr, account);
  if (!account || appid === undefined) return;
  await login.linker.deviceConfirmed(account, { at: Date.now(), appid, client: String(interaction.params.client_id) }, browserName(ctx.get('user-agent')));
}

/**
 * The record of a consent, for the company's compliance (PIPL articles 14 and 23: consent
 * given knowingly, naming the recipient, which the company must be able to show): who, to
 * which app, what the page asked (scopes, claims, each API's scopes) and how they answered:
 * on the consent page, by WeChat's sheet (sheet-consent.ts), or refused. One audit line in
 * the privacy log's shape (`privacy.action`), as erasures and revocations are.
 */
export function auditConsent(login: Pick<Login, 'log'>, interaction: Interaction, sub: string, given: 'page' | 'wechat-sheet' | 'refused', scopes?: readonly string[]): void {
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = consentDetails(interaction);
  login.log.info({
    privacy: {
      action: given === 'refused' ? 'consent-refused' : 'consent', by: given, sub, client: String(interaction.params.client_id),
      scopes: scopes ?? missingOIDCScope ?? [], ...(missingOIDCClaims?.length ? { claims: missingOIDCClaims } : {}), ...(Object.keys(missingResourceScopes ?? {}).length && !scopes ? { apis: missingResourceScopes } : {}),
    },
  }, given === 'refused' ? 'consent refused' : 'consent given');
}
