// Liveness and readiness, for load balancers and orchestrators.
//   /healthz  the process answers (no dependency is checked)
//   /readyz   configuration loaded and storage reachable; 503 otherwise. Its `detail` says
//             what else the operator should know (a third-party platform still waiting for
//             its first ticket) without failing readiness: WeChat's push that ends the wait
//             must be able to reach the instance.

import Router from '@koa/router';

const READY_TIMEOUT_MS = 1500;

/** What readiness checks: which stores are in use, and whether they answer. */
export interface StorageHealth {
  readonly kinds: { readonly protocol: string; readonly accounts: string };
  ping(): Promise<void>;
  /** More for the operator, shown with a ready answer. */
  detail?(): Promise<Record<string, unknown>>;
}

export function healthRoutes(stores: StorageHealth, isClosing: () => boolean): Router {
  const storage = stores.kinds;
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('cache-control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    if (isClosing()) {
      ctx.status = 503;
      ctx.body = { status: 'stopping', storage };
      return;
    }
    try {
      await Promise.race([
        stores.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS).unref()),
      ]);
      ctx.body = { status: 'ready', storage, ...await stores.detail?.().catch(() => undefined) };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'storage unreachable', storage };
    }
  });
  return router;
}
