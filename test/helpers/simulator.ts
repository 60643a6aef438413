// The WeChat simulator, driven the one way the broker drives it too: over HTTP, through
// its controls (src/simulator/controls.ts). Also the standalone simulator that tests start
// beside a broker configured with WeChat credentials.

import type { BrowserContext } from 'playwright-core';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.ts';
import type { CallRecord, FaultKind, SimApp, SimPlatform, SimScope } from '../../src/simulator/world.ts';
import { until } from './wait.ts';

export { randomApp as simApp, randomPlatform as simPlatform } from '../../src/simulator/world.ts';

/** Sets the platform's console URLs at the simulator, as the operator does in WeChat's console. */
export async function setPlatformUrls(simulator: string, appid: string, urls: { auth_events_url?: string; events_url?: string }): Promise<void> {
  await control(simulator, '/_sim/platforms/urls', { appid, ...urls });
}

/** WeChat pushes a fresh component_verify_ticket now; what the platform answered. */
export async function pushTicketNow(simulator: string, appid: string): Promise<{ status: number; body: string }> {
  return (await control(simulator, '/_sim/platforms/push-ticket', { appid })).json() as Promise<{ status: number; body: string }>;
}

/** A simulator of its own on a free port, for a broker configured with `apps`' credentials. */
export function startTestSimulator(apps: readonly SimApp[], callbackHosts: readonly string[] = [], platforms: readonly SimPlatform[] = []): Promise<RunningSimulator> {
  return startSimulator({ apps, callbackHosts, platforms, host: '127.0.0.1', port: 0 });
}

/** The broker's environment for these apps at this simulator (WECHAT_MP_* for the first mp, WECHAT_OPEN_* for the first open). */
export function wechatEnv(simulator: RunningSimulator, apps: readonly SimApp[]): Record<string, string> {
  const mp = apps.find((app) => app.kind === 'mp');
  const open = apps.find((app) => app.kind === 'open');
  return {
    ...(mp ? { WECHAT_MP_APPID: mp.appid, WECHAT_MP_SECRET: mp.secret } : {}),
    ...(open ? { WECHAT_OPEN_APPID: open.appid, WECHAT_OPEN_SECRET: open.secret } : {}),
    WECHAT_CONNECT_URL: simulator.url,
    WECHAT_MP_URL: simulator.url,
    WECHAT_API_URL: simulator.url,
    WECHAT_LOGIN_JS_URL: simulator.loginJsUrl,
  };
}

async function control(simulator: string, path: string, body: unknown): Promise<Response> {
  const response = await fetch(`${simulator}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`simulator control ${path} failed: ${response.status} ${await response.text()}`);
  return response;
}

/** Registers `host` as a callback domain (what the operator sets in WeChat's console). */
export async function addCallbackHost(simulator: string, host: string): Promise<void> {
  await control(simulator, '/_sim/callback-hosts', { host });
}

/**
 * The code WeChat gives `user` after authorizing `appid` with `scope` (living `lifeMs`,
 * WeChat's life by default; on the account's behalf by the platform `component`, if given).
 */
export async function issueCode(simulator: string, appid: string, user: string, scope: SimScope, lifeMs?: number, component?: string): Promise<string> {
  const response = await control(simulator, '/_sim/codes', {
    appid, user, scope, ...(lifeMs === undefined ? {} : { life_ms: lifeMs }), ...(component === undefined ? {} : { component }),
  });
  return ((await response.json()) as { code: string }).code;
}

/** A control of the simulated WeCom company `corpid` (src/simulator/wecom-controls.ts): `codes`, `visible`, `rename`, `server`, `expire-token`. */
export function weComControl(simulator: string, corpid: string, path: string, body: Record<string, unknown> = {}): Promise<Response> {
  return control(simulator, `/_sim/wecom/${path}`, { corpid, ...body });
}

/** The code WeCom gives `user` of the company `corpid` after an authorization with `scope`. */
export async function weComCode(simulator: string, corpid: string, user: string, scope = 'snsapi_base'): Promise<string> {
  return ((await (await weComControl(simulator, corpid, 'codes', { user, scope })).json()) as { code: string }).code;
}

/** How many times the company `corpid`'s apps fetched their token (gettoken). */
export async function weComTokenCalls(simulator: string, corpid: string): Promise<number> {
  return ((await (await fetch(`${simulator}/_sim/wecom/token-calls?corpid=${corpid}`)).json()) as { calls: number }).calls;
}

/** WeChat delivers the next `count` callbacks twice, as it sometimes does. */
export async function deliverTwice(simulator: string, count = 1): Promise<void> {
  await control(simulator, '/_sim/deliver-twice', { count });
}

/** The WeChat account logged in on the simulated phone (WeChat knows who you are). */
export async function setPhoneUser(context: BrowserContext, simulator: string, user: string): Promise<void> {
  await context.addCookies([{ name: 'wxsim_user', value: user, url: simulator }]);
}

export async function injectFaults(simulator: string, path: string, faults: FaultKind[]): Promise<void> {
  const response = await fetch(`${simulator}/_sim/faults`, { method: 'POST', body: JSON.stringify({ path, faults }) });
  if (response.status !== 204) throw new Error(`fault injection failed: ${response.status}`);
}

/** Waits until a call of `path` is held by a `hold` fault (it is in flight), then runs `during` and lets the call go on. */
export async function whileHeld(simulator: string, path: string, during: () => Promise<void>): Promise<void> {
  await until(`a call of ${path} is held`, async () => ((await (await fetch(`${simulator}/_sim/held`)).json()) as string[]).includes(path));
  try {
    await during();
  } finally {
    await fetch(`${simulator}/_sim/release`, { method: 'POST', body: JSON.stringify({ path }) });
  }
}

export async function simCalls(simulator: string): Promise<CallRecord[]> {
  return (await fetch(`${simulator}/_sim/calls`)).json() as Promise<CallRecord[]>;
}

/** The scopes of the web authorizations the simulator saw, in order. */
export async function authorizeScopes(simulator: string, since = 0): Promise<string[]> {
  return (await simCalls(simulator)).slice(since)
    .filter((call) => call.path === '/connect/oauth2/authorize')
    .map((call) => String(call.scope));
}
