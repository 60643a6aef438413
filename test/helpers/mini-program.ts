// What a mini program does, without a mini program runtime: `wx.login()` (the simulated
// WeChat hands out the js_code it would), then `wx.request()` to the broker's token
// endpoint with the token-exchange grant, as a public client. The broker's answer is
// read by openid-client's genericGrantRequest (certified RP code: it checks the ID token).

import * as oidc from 'openid-client';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JS_CODE = 'urn:wechat:params:oauth:token-type:js_code';

/** `wx.login()` in the mini program `appid`, on the phone of `user`. */
export async function wxLogin(simulator: string, appid: string, user: string): Promise<string> {
  const response = await fetch(`${simulator}/_sim/js-codes`, { method: 'POST', body: JSON.stringify({ appid, user }) });
  if (!response.ok) throw new Error(`wx.login failed: ${response.status}`);
  return ((await response.json()) as { code: string }).code;
}

/** The mini program's client of the broker (public: a mini program keeps no secret). */
export function miniProgramClient(issuer: string, clientId: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
}

/** The exchange, as the mini program's wx.request() sends it; openid-client reads the answer. */
export function exchange(client: oidc.Configuration, jsCode: string, scope?: string) {
  return oidc.genericGrantRequest(client, TOKEN_EXCHANGE, {
    subject_token: jsCode, subject_token_type: JS_CODE, ...(scope ? { scope } : {}),
  });
}

/** The operator's client for the admin API's account export (a client of CLIENTS_FILE). */
export const OPS_CLIENT = {
  client_id: 'ops', client_secret: 'ops-secret-0123456789abcdef0123456789', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'accounts:read',
};

/** What the operator's export (`GET /admin/accounts/:sub/export`, as OPS_CLIENT) lists for the person: their sessions and grants. */
export async function heldFor(issuer: string, sub: string) {
  const ops = await oidc.discovery(new URL(issuer), OPS_CLIENT.client_id, OPS_CLIENT.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const token = (await oidc.clientCredentialsGrant(ops, { scope: 'accounts:read' })).access_token;
  const response = await fetch(`${issuer}/admin/accounts/${sub}/export`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`the export answered ${response.status}`);
  return await response.json() as { sessions: Array<{ clients: string[]; logged_in_at: string }>; grants: Array<{ client: string; scope: string }> };
}

/** The same request by hand, for answers openid-client would turn into exceptions. */
export async function rawExchange(issuer: string, body: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${issuer}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: TOKEN_EXCHANGE, ...body }) });
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}

/**
 * A tap on the mini program's phone-number button (`<button open-type="getPhoneNumber">`)
 * on the phone of `user`: the code in `e.detail.code`. `watermarkAppid` makes WeChat's
 * answer for it stamped for another app.
 */
export async function tapPhoneButton(simulator: string, appid: string, user: string, watermarkAppid?: string): Promise<string> {
  const response = await fetch(`${simulator}/_sim/phone-codes`, { method: 'POST', body: JSON.stringify({ appid, user, ...(watermarkAppid ? { watermark_appid: watermarkAppid } : {}) }) });
  if (!response.ok) throw new Error(`the phone-number button failed: ${response.status}`);
  return ((await response.json()) as { code: string }).code;
}

/** The mini program's wx.request() to the broker's POST /account/phone, with the person's access token. */
export async function sendPhoneCode(issuer: string, accessToken: string | undefined, body: string | Record<string, unknown>) {
  const json = typeof body !== 'string';
  const response = await fetch(`${issuer}/account/phone`, {
    method: 'POST',
    headers: { ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}), 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' },
    body: json ? JSON.stringify(body) : body,
  });
  return { status: response.status, headers: response.headers, body: await response.json() as Record<string, unknown> };
}
