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
    redirect_uris: [`${origin}/callback.html`], post_logout_redirect_uris: [`${origin}/`],
  };
}

/**
 * The README's UserManager (under "With your library") as written, with this test's broker,
 * client and origin in place of the example's: what the README promises is what runs.
 */
function readmeManager(issuer: string, clientId: string, origin: string): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = /```js\n(\/\/ oidc-client-ts[^]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('the README has no oidc-client-ts block');
  return block
    .replace('new UserManager(', 'new oidc.UserManager(')
    .replaceAll('https://login.example.com', issuer)
    .replace("client_id: 'spa'", `client_id: ${JSON.stringify(clientId)}`)
    .replace("'https://app.example.com/callback'", JSON.stringify(`${origin}/callback.html`))
    .replaceAll('https://app.example.com', origin);
}

/** The app's code: the README's UserManager on every page, "Log in" and "Log out", and the callback's user shown. */
const appScript = (issuer: string, clientId: string, origin: string) => `${readmeManager(issuer, clientId, origin)}
const show = (what) => { document.getElementById('out').textContent = what; };
document.getElementById('login').onclick = () => manager.signinRedirect();
document.getElementById('logout').onclick = () => manager.signoutRedirect();
if (location.pathname === '/callback.html') {
  manager.signinRedirectCallback().then((user) => show(JSON.stringify({ profile: user.profile, scope: user.scope })), (error) => show('error: ' + error.message));
}
`;

const PAGE = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Browser App</title>
<button id="login">Log in</button> <button id="logout">Log out</button>
<pre id="out"></pre>
<script src="/oidc-client-ts.min.js"></script><script src="/app.js"></script></html>
`;

export async function startSpa(issuer: string, clientId: string, port: number): Promise<Spa> {
  const files: Record<string, readonly [string, string | Buffer]> = {
    '/': ['text/html; charset=utf-8', PAGE],
    '/callback.html': ['text/html; charset=utf-8', PAGE],
    '/oidc-client-ts.min.js': ['text/javascript', LIBRARY],
    '/app.js': ['text/javascript', appScript(issuer, clientId, `http://127.0.0.1:${port}`)],
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
