// The relying party's web server: where the broker sends the browser back, where it posts
// back-channel logout tokens (OIDC Back-Channel Logout 1.0, section 2.5), and where it pushes
// security event tokens (RFC 8935: 202 Accepted, or 400 with an error when told to refuse).

import { once } from 'node:events';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RpServer {
  readonly origin: string;
  readonly callback: string;
  readonly loggedOut: string;
  /** The backchannel_logout_uri. */
  readonly backchannel: string;
  /** The logout tokens received so far, in order. */
  logoutTokens(): string[];
  /** The security_events_uri. */
  readonly securityEvents: string;
  /** The security event tokens received so far (with the request's content type), in order. */
  securityEventTokens(): Array<{ token: string; contentType: string | undefined }>;
  /**
   * The security event tokens received since the `since`-th, by audience, each checked as an
   * RP must: pushed as `application/secevent+jwt` (RFC 8935 2), explicitly typed (RFC 8417
   * 2.3) and verified with `issuer`'s published keys, as any RP verifies its ID tokens.
   */
  securityEventsSince(since: number, issuer: string): Promise<Map<string, JWTPayload>>;
  /** The W3C `traceparent` header of each delivery received (logout and security event tokens), in order. */
  deliveryTraces(): Array<{ to: 'backchannel' | 'security-events'; traceparent: string | undefined }>;
  /** Refuses the next `count` security events with RFC 8935 2.3's 400 `invalid_request`. */
  refuseNextEvents(count: number): void;
  /** Answers the next `count` deliveries with 500, as a relying party having a bad moment. */
  failNext(count: number): void;
  /** Holds every delivery unanswered until the returned release is called. */
  hold(): () => void;
  close(): Promise<void>;
}

export async function startRpServer(): Promise<RpServer> {
  const tokens: string[] = [];
  const events: Array<{ token: string; contentType: string | undefined }> = [];
  let refusals = 0;
  let failures = 0;
  let held: Promise<void> | undefined;
  const traces: Array<{ to: 'backchannel' | 'security-events'; traceparent: string | undefined }> = [];
  const server = createServer((req, res) => {
    if (req.method === 'POST' && (req.url === '/security-events' || req.url === '/backchannel-logout')) {
      traces.push({ to: req.url === '/security-events' ? 'security-events' : 'backchannel', traceparent: req.headers.traceparent as string | undefined });
    }
    if (req.method === 'POST' && req.url === '/security-events') {
      let token = '';
      req.setEncoding('utf8').on('data', (chunk: string) => { token += chunk; }).on('end', () => {
        if (refusals > 0) {
          refusals -= 1;
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ err: 'invalid_request', description: 'not today' }));
          return;
        }
        events.push({ token, contentType: req.headers['content-type'] });
        res.writeHead(202).end();
      });
      return;
    }
    if (req.method !== 'POST' || req.url !== '/backchannel-logout') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<h1>relying party</h1>');
      return;
    }
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', async () => {
      await held;
      if (failures > 0) {
        failures -= 1;
        res.writeHead(500).end();
        return;
      }
      tokens.push(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    callback: `${origin}/callback`,
    loggedOut: `${origin}/logged-out`,
    backchannel: `${origin}/backchannel-logout`,
    logoutTokens: () => [...tokens],
    securityEvents: `${origin}/security-events`,
    securityEventTokens: () => [...events],
    async securityEventsSince(since, issuer) {
      const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
      const told = new Map<string, JWTPayload>();
      for (const { token, contentType } of events.slice(since)) {
        if (contentType !== 'application/secevent+jwt') throw new Error(`a security event pushed as ${String(contentType)}`);
        const { payload } = await jwtVerify(token, jwks, { issuer, typ: 'secevent+jwt' });
        told.set(String(payload.aud), payload);
      }
      return told;
    },
    deliveryTraces: () => [...traces],
    refuseNextEvents: (count) => { refusals = count; },
    failNext: (count) => { failures = count; },
    hold() {
      let release = () => {};
      held = new Promise((resolve) => { release = () => { held = undefined; resolve(); }; });
      return release;
    },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
