// Starts the simulator on its own port (dev mode and tests only; production never calls
// this). Tests drive it over HTTP through its controls (controls.ts), as the broker does.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen } from '../http/listen.ts';
import { createSimulatorApp } from './app.ts';
import { pushTicketsPeriodically } from './platform-pushes.ts';
import type { SimCorp } from './wecom-corp.ts';
import { SimWorld, type SimApp, type SimPlatform } from './world.ts';

export interface RunningSimulator {
  /** Base URL: serves as WECHAT_CONNECT_URL, WECHAT_MP_URL, WECHAT_API_URL and the wxLogin.js host. */
  readonly url: string;
  /** WeChat's wxLogin.js (WECHAT_LOGIN_JS_URL). */
  readonly loginJsUrl: string;
  /** WeCom's JS SDK, as far as its login panel goes (WECOM_LOGIN_JS_URL). */
  readonly wecomLoginJsUrl: string;
  close(): Promise<void>;
}

export async function startSimulator(options: {
  apps: readonly SimApp[];
  callbackHosts: Iterable<string>;
  host: string;
  port: number;
  /** Third-party platforms, and the Official Accounts that authorized them. */
  platforms?: readonly SimPlatform[];
  /** WeCom companies (WECOM_API_URL and WECOM_LOGIN_URL are this simulator too). */
  corps?: readonly SimCorp[];
  /** Push tickets on WeChat's timer (every 10 minutes, the first soon after start); tests push on demand instead. */
  pushTicketsEveryMs?: number;
}): Promise<RunningSimulator> {
  const world = new SimWorld(options.apps, options.callbackHosts, options.platforms, options.corps);
  const server: Server = createServer(createSimulatorApp(world).callback());
  await listen(server, options.port, options.host, 'WECHAT_SIMULATOR_PORT');
  const stopPushing = options.pushTicketsEveryMs === undefined ? undefined : pushTicketsPeriodically(world, options.pushTicketsEveryMs);
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  return {
    url,
    loginJsUrl: `${url}/connect/zh_CN/htmledition/js/wxLogin.js`,
    wecomLoginJsUrl: `${url}/wecom/jssdk.js`,
    close: () => new Promise((resolve) => {
      stopPushing?.();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
