// The usual end-to-end setup: one Chromium, one broker (with the test clients), the
// relying party's server and an openid-client RP, all stopped whatever the outcome.

import type { TestFn } from 'ava';
import type { Browser } from 'playwright-core';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from './broker.ts';
import { launchChromium } from './browser.ts';
import { createRp, type Rp } from './rp.ts';
import { startRpServer, type RpServer } from './rp-server.ts';

export interface E2e {
  browser: Browser;
  broker: RunningBroker;
  rpServer: RpServer;
  /** The first-party client's RP. */
  rp: Rp;
}

/** Registers before/after hooks on `test`; the returned object is filled before the first test. */
export function useE2e(test: TestFn, env: Record<string, string> = {}): E2e {
  const e2e = {} as E2e;
  test.before(async () => {
    e2e.rpServer = await startRpServer();
    [e2e.browser, e2e.broker] = await Promise.all([
      launchChromium(),
      startBroker({ CLIENTS_FILE: writeClientsFile(testClients(e2e.rpServer.origin)), ...env }),
    ]);
    e2e.rp = await createRp(e2e.broker.issuer, e2e.rpServer);
  });
  test.after.always(async () => {
    await Promise.all([e2e.browser?.close(), e2e.broker?.stop(), e2e.rpServer?.close()]);
  });
  return e2e;
}
