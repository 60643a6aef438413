// The person's own answers: POST /interaction/:uid/consent (the consent page) and
// POST /interaction/:uid/cancel ("back to the app" on any login page).

import type { Context } from 'koa';
import { readForm } from '../http/read-body.ts';
import { errorPage } from '../pages/error-pages.ts';
import type { Login } from './login.ts';
import { send } from './answer.ts';
import { lostLoginPage } from './lost-login.ts';

/** What this module uses of the login: its functions can reach nothing else. */
export type ConsentParts = Pick<Login, 'end' | 'interactions'>;

const DENIED = { error: 'access_denied', error_description: 'End-User denied the request' } as const;
const CANCELLED = { error: 'access_denied', error_description: 'End-User cancelled the login' } as const;

/** POST /interaction/:uid/cancel — "back to the app": the relying party gets access_denied with its state. */
export async function cancelLogin(ctx: Context, login: ConsentParts): Promise<void> {
  const interaction = await login.interactions.find(ctx, String(ctx.params.uid));
  if (!interaction) return errorPage(ctx, await lostLoginPage(ctx, login, 'interaction'));
  send(ctx, await login.end(ctx, CANCELLED));
}

export async function answerConsent(ctx: Context, login: ConsentParts): Promise<void> {
  const interaction = await login.interactions.find(ctx, String(ctx.params.uid));
  const accountId = interaction?.session?.accountId;
  if (!interaction || interaction.prompt.name !== 'consent' || !accountId) return errorPage(ctx, await lostLoginPage(ctx, login, 'interaction'));
  const form = await readForm(ctx);
  if (form.get('decision') !== 'allow') return send(ctx, await login.end(ctx, DENIED));
  const grantId = await login.interactions.grantConsent(interaction, accountId);
  send(ctx, await login.end(ctx, { consent: { grantId } }, true));
}
