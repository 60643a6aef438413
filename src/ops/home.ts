// GET / — the first URL the banner prints: a small page saying what this service is, with
// the discovery document for developers and, in dev mode, the demo.

import Router from '@koa/router';
import { homePage } from '../pages/home-page.ts';

export function homeRoutes(issuer: string, demo: string | undefined): Router {
  const router = new Router();
  router.get('/', (ctx) => homePage(ctx, { discovery: `${issuer}/.well-known/openid-configuration`, demo }));
  return router;
}
