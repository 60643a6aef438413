// Starts the simulator on its own port (dev mode and tests only; production never calls
// this). Tests drive it over HTTP through its controls (controls.ts), as the broker does.

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSimulatorApp } from './app.ts';
import { SimWorld, type SimApp } from './world.ts';

export interface RunningSimulator {
  /** Base URL: serves as WECHAT_CONNECT_URL, WECHAT_API_URL and the wxLogin.js host. */
  readonly url: string;
  readonly loginJsUrl: string;
  close(): Promise<void>;
}

export async function startSimulator(options: {
  apps: readonly SimApp[];
  callbackHosts: Iterable<string>;
  host: string;
  port: number;
}): Promise<RunningSimulator> {
  const world = new SimWorld(options.apps, options.callbackHosts);
  const server: Server = createServer(createSimulatorApp(world).callback());
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  return {
    url,
    loginJsUrl: `${url}/connect/zh_CN/htmledition/js/wxLogin.js`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
