// Ports for the servers the tests start (brokers, Redis, Apache, the relying parties), chosen
// below the kernel's ephemeral range: the range outgoing connections take their local ports
// from. A port from inside it (what listen(0) gives) can become the local port of any
// connection the suite opens (a Redis client, Chromium, a fetch) between the choice and the
// server's bind, and the server then cannot start: "Address already in use" (CI met it twice:
// a Redis Cluster node, and Apache, whose port was chosen seconds before it started). Below the
// range only a listener can take a port, and each port is checked by listening on it first.

import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const EPHEMERAL_RANGE = '/proc/sys/net/ipv4/ip_local_port_range';

/**
 * Above every port the Fetch standard's "bad port" list blocks (the highest is 10080), which
 * Chromium and Node's fetch both refuse to connect to.
 */
const FIRST = 10_100;

/** Where the kernel picks the local ports of outgoing connections (Linux's default when /proc does not say). */
export function ephemeralStart(): number {
  const range = existsSync(EPHEMERAL_RANGE) ? Number(readFileSync(EPHEMERAL_RANGE, 'utf8').trim().split(/\s+/)[0]) : NaN;
  return Number.isInteger(range) && range > FIRST + 12_000 ? range : 32_768;
}

/** Whether a listener can take `port` on 127.0.0.1 right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The ports this test file was given (and the room above each): never the same one twice. */
const given = new Set<number>();

/**
 * A TCP port free on 127.0.0.1 right now, below the ephemeral range; `room` more ports above
 * it stay below the range too (a Redis Cluster node's bus port is its port + 10000).
 */
export async function freePort(room = 0): Promise<number> {
  const below = ephemeralStart() - room;
  if (below - FIRST < 1_000) throw new Error(`too few ports below the ephemeral range (${ephemeralStart()}) for room ${room}`);
  for (;;) {
    const port = FIRST + Math.floor(Math.random() * (below - FIRST));
    if (given.has(port) || given.has(port + room) || !await portFree(port) || (room > 0 && !await portFree(port + room))) continue;
    given.add(port).add(port + room);
    return port;
  }
}
