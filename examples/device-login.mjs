#!/usr/bin/env node
// Log a command line in with WeChat (OAuth 2.0 Device Authorization Grant, RFC 8628),
// with openid-client, a certified relying party library:
//
//   node examples/device-login.mjs <issuer> [client_id] [scope]
//   node examples/device-login.mjs http://localhost:3000 demo-device "openid profile"   (dev mode's device)
//
// It asks the broker for a code, prints the QR code of the link (scan it with WeChat) and
// the code to type at the link's page on a computer, polls until the person confirmed on
// their phone, and prints who logged in. The client must be registered with the
// device_code grant and token_endpoint_auth_method "none" (README, "TVs, kiosks and command lines").

import { hostname } from 'node:os';
import * as client from 'openid-client';
import QRCode from 'qrcode';

const [issuer = 'http://localhost:3000', clientId = 'demo-device', scope = 'openid profile'] = process.argv.slice(2);
const url = new URL(issuer);
const config = await client.discovery(url, clientId, undefined, client.None(), url.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined);

const device = await client.initiateDeviceAuthorization(config, { scope, device_name: `CLI on ${hostname()}`.slice(0, 60) });
console.log(await QRCode.toString(device.verification_uri_complete, { type: 'terminal', small: true }));
console.log(`Scan this with WeChat, or open ${device.verification_uri} and enter the code ${device.user_code}`);
console.log(`link: ${device.verification_uri_complete}`);

try {
  const tokens = await client.pollDeviceAuthorizationGrant(config, device);
  const claims = tokens.claims();
  console.log(`logged in: sub ${claims?.sub}${claims?.amr ? ` (${claims.amr.join(', ')})` : ''}; access token for ${tokens.expires_in} s`);
} catch (error) {
  // access_denied ("I did not start this"), expired_token, or the code's time ran out here.
  console.error(`not logged in: ${error.error ?? error.name}${error.error_description ? `: ${error.error_description}` : ''}`);
  process.exitCode = 1;
}
