// A small round-robin HTTP proxy, like a load balancer in front of several brokers:
// each request goes to the next instance; an instance that refuses the connection is
// skipped (as a load balancer's retry does).

import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Proxy {
  readonly origin: string;
  /** How many requests each target answered. */
  readonly served: Map<string, number>;
  close(): Promise<void>;
}

export async function startProxy(targets: readonly string[], port = 0): Promise<Proxy> {
  let next = 0;
  const served = new Map(targets.map((target) => [target, 0]));
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, tries: number) => {
    const target = targets[next++ % targets.length]!;
    const upstream = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      served.set(target, (served.get(target) ?? 0) + 1);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (tries + 1 < targets.length) forward(req, res, body, tries + 1);
      else { res.writeHead(502); res.end('no instance answered'); }
    });
    upstream.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => forward(req, res, Buffer.concat(chunks), 0));
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
