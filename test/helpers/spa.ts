// A single-page app on its own origin, written with oidc-client-ts (the browser library most
// front-end teams use): a public client with PKCE whose every call to the broker comes from
// the page itself, so the browser's CORS rules decide it (discovery, JWKS, the token
// endpoint, userinfo with its preflight), its UserManager the README's own lines. `/` offers
// "Log in" and "Log out"; the callback page shows the user oidc-client-ts made (the ID
// token's claims and userinfo's) as JSON.

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const LIBRARY = readFileSync(new URL('../../node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js', import.meta.url));

export interface Spa {
  readonly origin: string;
  close(): Promise<void>;
}

/** The client to register in CLIENTS_FILE for the app at `origin`. */
export function spaClient(origin: string, clientId: string) {
  return {
    client_id: clientId, token_endpoint_auth_method: 'none', client_name: 'Browser App', first_party: true,
    grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [`${origin}/callback.html`], post_logout_redirect_uris: [`${origin}/`],
  };
}

/**
 * The README's UserManager (under "With your library") as written, the plain one or the one
 * with DPoP, with this test's broker, client and origin in place of the example's: what the
 * README promises is what runs.
 */
function readmeManager(issuer: string, clientId: string, origin: string, dpop: boolean): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = [...readme.matchAll(/```js\n(\/\/ oidc-client-ts[^]*?)```/g)].map((match) => match[1]!)
    .find((text) => text.startsWith('// oidc-client-ts with DPoP') === dpop);
  if (!block) throw new Error(`the README has no oidc-client-ts block${dpop ? ' with DPoP' : ''}`);
  return block
    .replace('new UserManager(', 'new oidc.UserManager(')
    .replace('new IndexedDbDPoPStore(', 'new oidc.IndexedDbDPoPStore(')
    .replaceAll('https://login.example.com', issuer)
    .replace("client_id: 'spa'", `client_id: ${JSON.stringify(clientId)}`)
    .replace("'https://app.example.com/callback'", JSON.stringify(`${origin}/callback.html`))
    .replaceAll('https://app.example.com', origin);
}

/**
 * What the callback page shows: the user oidc-client-ts made; with DPoP also its token type,
 * userinfo's answer to a proof made on the page, and the token type after a refresh (signinSilent).
 */
const CALLBACK = {
  plain: 'manager.signinRedirectCallback().then((user) => show(JSON.stringify({ profile: user.profile, scope: user.scope })), fail);',
  dpop: `manager.signinRedirectCallback().then(async (user) => {
    const claims = await userinfo(user);
    const renewed = await manager.signinSilent();
    show(JSON.stringify({ profile: user.profile, token_type: user.token_type, userinfo: claims, renewed: renewed.token_type }));
  }).catch(fail);`,
};

/** The app's code: the README's UserManager on every page, "Log in" and "Log out", and the callback's user shown. */
const appScript = (issuer: string, clientId: string, origin: string, dpop: boolean) => `${readmeManager(issuer, clientId, origin, dpop)}
const show = (what) => { document.getElementById('out').textContent = what; };
const fail = (error) => show('error: ' + error.message);
document.getElementById('login').onclick = () => manager.signinRedirect();
document.getElementById('logout').onclick = () => manager.signoutRedirect();
if (location.pathname === '/callback.html') {
  ${dpop ? CALLBACK.dpop : CALLBACK.plain}
}
`;

const PAGE = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Browser App</title>
<button id="login">Log in</button> <button id="logout">Log out</button>
<pre id="out"></pre>
<script src="/oidc-client-ts.min.js"></script><script src="/app.js"></script></html>
`;

/** Serves the app on `port`; with `dpop`, the README's DPoP UserManager. */
export async function startSpa(issuer: string, clientId: string, port: number, dpop = false): Promise<Spa> {
  const files: Record<string, readonly [string, string | Buffer]> = {
    '/': ['text/html; charset=utf-8', PAGE],
    '/callback.html': ['text/html; charset=utf-8', PAGE],
    '/oidc-client-ts.min.js': ['text/javascript', LIBRARY],
    '/app.js': ['text/javascript', appScript(issuer, clientId, `http://127.0.0.1:${port}`, dpop)],
  };
  const server = createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://spa').pathname];
    res.writeHead(file ? 200 : 404, { 'content-type': file?.[0] ?? 'text/plain' }).end(file?.[1] ?? 'not found');
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
