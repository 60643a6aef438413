// The helper that starts real redis-servers for the tests: a server that cannot start (its
// port taken between the choice and its bind) is an error at once, with the reason from its
// log, not a minute of polling a process that is gone; the Cluster's ports stay out of the
// range outgoing connections take theirs from.

import test from 'ava';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { ephemeralStart } from '../helpers/ports.ts';
import { startRedis, startRedisCluster } from '../helpers/redis.ts';

/** Listens on `port` (0: any), or undefined when it is taken. */
function hold(port: number): Promise<Server | undefined> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

test('a Cluster node whose bus port is taken: the error says it exited and why, at once', async (t) => {
  // The failure CI met: the node's port free, its bus port (port + 10000) taken meanwhile.
  let bus: Server | undefined;
  let port = 0;
  while (!bus) {
    const held = (await hold(0))!;
    port = (held.address() as AddressInfo).port - 10_000;
    const probe = port > 1024 ? await hold(port) : undefined;
    if (probe) {
      await new Promise((resolve) => probe.close(resolve));
      bus = held;
    } else held.close();
  }
  try {
    const error = await t.throwsAsync(startRedis({ port, extra: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes-helper-test.conf'] }));
    t.regex(error!.message, new RegExp(`^redis-server on ${port} exited before it answered: .*Address already in use`));
  } finally {
    bus.close();
  }
});

test('a Redis Cluster: every node and its bus port below the ephemeral range', async (t) => {
  const cluster = await startRedisCluster();
  try {
    const ports = cluster.url.replace('redis-cluster://', '').split(',').map((node) => Number(node.split(':')[1]));
    t.is(ports.length, 3);
    const start = ephemeralStart();
    for (const port of ports) t.true(port + 10_000 < start, `node ${port}, bus ${port + 10_000}, ephemeral from ${start}`);
  } finally {
    await cluster.stop();
  }
});
