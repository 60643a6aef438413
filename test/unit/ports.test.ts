// The ports the tests start their servers on: below the range the kernel takes outgoing
// connections' local ports from (so no client socket can take one between its choice and the
// server's bind), above the ports browsers and fetch refuse, free when given, never given twice.

import test from 'ava';
import { createServer, type Server } from 'node:net';
import { ephemeralStart, freePort } from '../helpers/ports.ts';

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

test('every port given is below the ephemeral range, above 10080, free to listen on, and new', async (t) => {
  const start = ephemeralStart();
  const ports: number[] = [];
  for (let i = 0; i < 200; i += 1) ports.push(await freePort());
  for (const port of ports) t.true(port > 10_080 && port < start, `port ${port}, ephemeral from ${start}`);
  t.is(new Set(ports).size, ports.length, 'no port given twice');
  const server = createServer();
  await t.notThrowsAsync(listen(server, ports[0]!));
  server.close();
});

test('the room asked for above a port is below the range and free too', async (t) => {
  const start = ephemeralStart();
  for (let i = 0; i < 50; i += 1) {
    const port = await freePort(10_000);
    t.true(port + 10_000 < start, `port ${port}, its room ${port + 10_000}, ephemeral from ${start}`);
  }
});
