// Several broker instances as operators run them: shared COOKIE_KEYS, JWKS_FILE,
// CLIENTS_FILE and storage, WeChat credentials (of a standalone simulator), behind a
// round-robin proxy whose origin is the ISSUER.

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateSigningKeys } from '../../src/config/keys.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { startBroker, testClients, writeClientsFile, type RunningBroker } from './broker.ts';
import { freePort } from './ports.ts';
import { startProxy, type Proxy } from './proxy.ts';
import { simApp, startTestSimulator, wechatEnv } from './simulator.ts';

export interface BrokerCluster {
  readonly issuer: string;
  readonly simulator: RunningSimulator;
  readonly proxy: Proxy;
  readonly instances: RunningBroker[];
  /** Starts instance `index` again (after it was stopped or killed). */
  restart(index: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startBrokerCluster(rpOrigin: string, storageEnv: Record<string, string>, count = 2): Promise<BrokerCluster> {
  const apps = [simApp('mp'), simApp('open')];
  const clients = writeClientsFile(testClients(rpOrigin));
  const jwks = join(dirname(clients), 'jwks.json');
  writeFileSync(jwks, JSON.stringify(await generateSigningKeys()));
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const proxyPort = await freePort();
  const issuer = `http://127.0.0.1:${proxyPort}`;
  const simulator = await startTestSimulator(apps, [new URL(issuer).host]);
  const shared = {
    ISSUER: issuer,
    CLIENTS_FILE: clients,
    JWKS_FILE: jwks,
    COOKIE_KEYS: randomBytes(32).toString('hex'),
    ...wechatEnv(simulator, apps),
    ...storageEnv,
  };
  const envFor = (port: number) => ({ ...shared, PORT: String(port) });
  const instances = await Promise.all(ports.map((port) => startBroker(envFor(port))));
  const proxy = await startProxy(ports.map((port) => `http://127.0.0.1:${port}`), proxyPort);
  return {
    issuer,
    simulator,
    proxy,
    instances,
    async restart(index) {
      instances[index] = await startBroker(envFor(ports[index]!));
    },
    async stop() {
      await Promise.all([...instances.map((instance) => instance.stop()), proxy.close(), simulator.close()]);
    },
  };
}
