// Liveness and readiness, for load balancers and orchestrators.
//   /healthz  the process answers (no dependency is checked)
//   /readyz   configuration loaded and storage reachable; 503 otherwise

import Router from '@koa/router';
import type { ProtocolStorage } from '../storage/adapter.ts';

const READY_TIMEOUT_MS = 1500;

export function healthRoutes(storage: ProtocolStorage, isClosing: () => boolean): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('cache-control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    if (isClosing()) {
      ctx.status = 503;
      ctx.body = { status: 'stopping', storage: storage.kind };
      return;
    }
    try {
      await Promise.race([
        storage.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS).unref()),
      ]);
      ctx.body = { status: 'ready', storage: storage.kind };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'storage unreachable', storage: storage.kind };
    }
  });
  return router;
}
