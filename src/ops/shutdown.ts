// Stopping cleanly (SIGTERM from Docker or Kubernetes, or Ctrl-C):
//   1. /readyz answers 503 at once, so load balancers stop sending new work;
//   2. requests are still served for SHUTDOWN_DELAY_MS (the time balancers take to notice);
//   3. no new connections; requests in flight finish, within SHUTDOWN_TIMEOUT_MS;
//   4. storage connections close; the process exits 0.

import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.ts';

export interface ShutdownTimes {
  readonly delayMs: number;
  readonly timeoutMs: number;
}

/** What is being stopped, besides its HTTP server. */
export interface Stoppable {
  readonly log: Logger;
  /** Readiness turns 503 from here on. */
  beginShutdown(): void;
  /** Closes storage and the rest. */
  close(): Promise<void>;
}

export async function shutdown(server: Server, broker: Stoppable, times: ShutdownTimes, signal: string): Promise<void> {
  const { log } = broker;
  log.info({ signal, delayMs: times.delayMs, timeoutMs: times.timeoutMs }, 'stopping: not ready any more');
  broker.beginShutdown();
  await sleep(times.delayMs);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const forced = sleep(times.timeoutMs, 'timeout' as const, { ref: false });
  if (await Promise.race([closed.then(() => 'drained' as const), forced]) === 'timeout') {
    log.warn('requests still in flight after SHUTDOWN_TIMEOUT_MS: closing their connections');
    server.closeAllConnections();
    await closed;
  }
  await broker.close();
  log.info('stopped');
}
