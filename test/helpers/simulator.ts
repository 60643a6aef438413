// Talking to the WeChat simulator's control endpoints (/_sim/*) over HTTP.

import type { BrowserContext } from 'playwright-core';
import type { CallRecord, FaultKind } from '../../src/simulator/world.ts';

/** The WeChat account logged in on the simulated phone (WeChat knows who you are). */
export async function setPhoneUser(context: BrowserContext, simulator: string, user: string): Promise<void> {
  await context.addCookies([{ name: 'wxsim_user', value: user, url: simulator }]);
}

export async function injectFaults(simulator: string, path: string, faults: FaultKind[]): Promise<void> {
  const response = await fetch(`${simulator}/_sim/faults`, { method: 'POST', body: JSON.stringify({ path, faults }) });
  if (response.status !== 204) throw new Error(`fault injection failed: ${response.status}`);
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
