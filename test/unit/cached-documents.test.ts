// Discovery and the JWKS served from their bytes (oidc/cached-documents.ts), over real HTTP:
// the document is built once per app (here, by a stand-in for oidc-provider that counts),
// every answer carries the same bytes and oidc-provider's CORS for open endpoints, and
// what is not a document (an error, another path, a POST) is never kept.

import test from 'ava';
import Koa from 'koa';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { cachedDocuments } from '../../src/oidc/cached-documents.ts';

async function serve() {
  const built = { discovery: 0, jwks: 0 };
  let failing = true;
  const app = new Koa();
  app.use(cachedDocuments());
  app.use((ctx) => {
    if (ctx.path === '/jwks') {
      if (failing) { failing = false; ctx.status = 500; ctx.body = { error: 'server_error' }; return; }
      built.jwks += 1;
      ctx.type = 'application/jwk-set+json; charset=utf-8';
      ctx.body = { keys: [{ kty: 'EC', kid: `k${built.jwks}` }] };
      return;
    }
    built.discovery += 1;
    ctx.vary('Origin');
    ctx.set('access-control-allow-origin', ctx.get('origin') || '*');
    ctx.body = { issuer: 'https://login.example.com', built: built.discovery, path: ctx.path };
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, built, close: () => new Promise((resolve) => server.close(resolve)) };
}

test('built once, the same bytes after, with CORS for any origin (or the one that asks) and Vary: Origin', async (t) => {
  const server = await serve();
  try {
    const discovery = `${server.url}/.well-known/openid-configuration`;
    const first = await fetch(discovery);
    const again = await fetch(discovery, { headers: { origin: 'https://rp.example' } });
    const third = await fetch(discovery);
    t.is(server.built.discovery, 1, 'oidc-provider was asked once');
    t.deepEqual(await again.json(), await first.json());
    t.is(again.headers.get('content-type'), 'application/json; charset=utf-8');
    t.is(again.headers.get('access-control-allow-origin'), 'https://rp.example');
    t.is(third.headers.get('access-control-allow-origin'), '*');
    t.is(again.headers.get('vary'), 'Origin');
    t.is((await fetch(discovery, { method: 'HEAD' })).headers.get('content-length'), first.headers.get('content-length'));
  } finally {
    await server.close();
  }
});

test('an error is not kept (the next request builds the document), nor another path or a POST', async (t) => {
  const server = await serve();
  try {
    t.is((await fetch(`${server.url}/jwks`)).status, 500);
    const keys = await (await fetch(`${server.url}/jwks`)).json();
    t.deepEqual(await (await fetch(`${server.url}/jwks`)).json(), keys);
    t.is(server.built.jwks, 1);
    t.is((await fetch(`${server.url}/jwks`)).headers.get('content-type'), 'application/jwk-set+json; charset=utf-8');
    await fetch(`${server.url}/.well-known/other`);
    await fetch(`${server.url}/.well-known/other`);
    await fetch(`${server.url}/.well-known/openid-configuration`, { method: 'POST' });
    t.is(server.built.discovery, 3);
  } finally {
    await server.close();
  }
});
