// The interaction routes: where oidc-provider sends a person who must log in or consent.
//
//   GET  /interaction/:uid          choose the way to WeChat, or show consent (start.ts)
//   GET  /interaction/:uid/wechat   WeChat's callback (callback.ts)
//   POST /interaction/:uid/consent  the consent form (consent.ts)
//   POST /interaction/:uid/cancel   "back to the app" (consent.ts)
//   the phone hand-off: /interaction/:uid/handoff…, /h/:code… (handoff-routes.ts)
//   follow-to-login: /interaction/:uid/follow, …/follow/finish (follow.ts); the scanner's confirmation /f/:link… (follow-confirm.ts)

import Router from '@koa/router';
import { wechatCallback } from './callback.ts';
import { answerConsent, cancelLogin } from './consent.ts';
import { finishFollow, followStatus } from './follow.ts';
import { FOLLOW_CONFIRM_ROUTES } from './follow-confirm.ts';
import { HANDOFF_ROUTES } from './handoff-routes.ts';
import type { Login } from './login.ts';
import { startInteraction } from './start.ts';

export function loginRoutes(login: Login): Router {
  const router = new Router();
  router.get('/interaction/:uid', (ctx) => startInteraction(ctx, login));
  router.get('/interaction/:uid/wechat', (ctx) => wechatCallback(ctx, login));
  router.post('/interaction/:uid/consent', (ctx) => answerConsent(ctx, login));
  router.post('/interaction/:uid/cancel', (ctx) => cancelLogin(ctx, login));
  router.get('/interaction/:uid/handoff', (ctx) => HANDOFF_ROUTES.status(ctx, login));
  router.post('/interaction/:uid/handoff/finish', (ctx) => HANDOFF_ROUTES.finish(ctx, login));
  router.get('/interaction/:uid/follow', (ctx) => followStatus(ctx, login));
  router.post('/interaction/:uid/follow/finish', (ctx) => finishFollow(ctx, login));
  router.get('/f/:link', (ctx) => FOLLOW_CONFIRM_ROUTES.open(ctx, login));
  router.get('/f/:link/wechat', (ctx) => FOLLOW_CONFIRM_ROUTES.callback(ctx, login));
  router.post('/f/:link/confirm', (ctx) => FOLLOW_CONFIRM_ROUTES.confirm(ctx, login));
  router.post('/f/:link/decline', (ctx) => FOLLOW_CONFIRM_ROUTES.decline(ctx, login));
  router.get('/h/:code', (ctx) => HANDOFF_ROUTES.show(ctx, login));
  router.post('/h/:code/confirm', (ctx) => HANDOFF_ROUTES.confirm(ctx, login));
  router.post('/h/:code/decline', (ctx) => HANDOFF_ROUTES.decline(ctx, login));
  router.get('/h/:code/wechat', (ctx) => HANDOFF_ROUTES.callback(ctx, login));
  return router;
}
