// Auth.js (@auth/core, what Next.js apps log in with) as a relying party, its provider the
// README's own lines ("With your library"), served by a plain Node server: /auth/* is
// Auth.js (its sign-in page, the callback, /auth/session); the session is Auth.js's own
// encrypted cookie.

import { Auth, type AuthConfig } from '@auth/core';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AuthJsApp {
  readonly origin: string;
  close(): Promise<void>;
}

/** The client to register in CLIENTS_FILE for the app at `origin`. */
export function authJsClient(origin: string, clientId: string, clientSecret: string) {
  return { client_id: clientId, client_secret: clientSecret, client_name: 'Auth.js', redirect_uris: [`${origin}/auth/callback/wechat`], first_party: true };
}

/**
 * The README's `providers: [...]` as written, evaluated with this test's broker in place of
 * the example's and the client in the environment variables it reads.
 */
function readmeProviders(issuer: string, clientId: string, clientSecret: string): AuthConfig['providers'] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = /```ts\n\/\/ Auth\.js[^\n]*\n(?:\/\/[^\n]*\n)*([^]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('the README has no Auth.js block');
  const code = block.replaceAll('https://login.example.com', issuer);
  const env = { AUTH_WECHAT_ID: clientId, AUTH_WECHAT_SECRET: clientSecret };
  return (new Function('process', `return ({ ${code} }).providers;`) as (process: { env: typeof env }) => AuthConfig['providers'])({ env });
}

/** A Node request as the Web Request Auth.js takes. */
async function webRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers(Object.entries(req.headers).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]] as Array<[string, string]>)));
  return new Request(new URL(req.url ?? '/', origin), { method: req.method, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
}

export async function startAuthJs(issuer: string, clientId: string, clientSecret: string, port: number): Promise<AuthJsApp> {
  const origin = `http://127.0.0.1:${port}`;
  const config: AuthConfig = { providers: readmeProviders(issuer, clientId, clientSecret), secret: 'a-secret-for-the-test-only-0123456789', trustHost: true, basePath: '/auth' };
  const server = createServer((req, res) => {
    // Where Auth.js sends the person back (its callbackUrl): the app's own page.
    if (!req.url?.startsWith('/auth/')) return void res.writeHead(200, { 'content-type': 'text/plain' }).end('home');
    void (async () => {
      const answer = await Auth(await webRequest(req, origin), config);
      const headers: Record<string, string | string[]> = Object.fromEntries(answer.headers);
      const cookies = answer.headers.getSetCookie();
      if (cookies.length) headers['set-cookie'] = cookies;
      res.writeHead(answer.status, headers).end(Buffer.from(await answer.arrayBuffer()));
    })().catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
