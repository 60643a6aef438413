// What a TV, a kiosk or a command line does (RFC 8628), with openid-client's device flow:
// ask the broker for a code, show it (here: hand its link to the test), poll until the
// person has confirmed. The raw poll is for answers openid-client would turn into waits.

import * as oidc from 'openid-client';
import { DEVICE_GRANT } from './broker.ts';

/** The device's client of the broker (public: a TV keeps no secret). */
export function deviceClient(issuer: string, clientId = 'tv'): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
}

/** The device asks for a code; `name` is what it calls itself. */
export function startDevice(client: oidc.Configuration, scope = 'openid', name?: string) {
  return oidc.initiateDeviceAuthorization(client, { scope, ...(name ? { device_name: name } : {}) });
}

/** One poll of the token endpoint, as the device sends it: the status and the answer. */
export async function pollOnce(tokenEndpoint: string, clientId: string, deviceCode: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(tokenEndpoint, {
    method: 'POST', body: new URLSearchParams({ grant_type: DEVICE_GRANT, client_id: clientId, device_code: deviceCode }),
  });
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}
