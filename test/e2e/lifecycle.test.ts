// Stopping as Docker and Kubernetes do (SIGTERM): not ready at once, requests in flight
// finish, storage connections close, exit code 0.

import test from 'ava';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBrokerWithSimulator, testClients, writeClientsFile } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { startRedis } from '../helpers/redis.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer } from '../helpers/rp-server.ts';
import { injectFaults, setPhoneUser, simApp, simCalls } from '../helpers/simulator.ts';

/** Resolves once the simulator has shown the WeChat authorize page. */
async function atWeChat(simulator: string): Promise<void> {
  while (!(await simCalls(simulator)).some((call) => call.path === '/connect/oauth2/authorize')) await sleep(20);
}

/** Redis's own view of its commands (MONITOR), from here on. */
function monitor(port: number) {
  const child = spawn('redis-cli', ['-p', String(port), 'monitor'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let seen = '';
  child.stdout.on('data', (chunk: Buffer) => { seen += chunk.toString(); });
  return { seen: () => seen, stop: () => child.kill() };
}

/** The client addresses that named themselves as the broker, and whether each sent QUIT. */
function brokerConnections(seen: string): Array<{ address: string; quit: boolean }> {
  const addresses = [...seen.matchAll(/\[\d+ ([\d.:]+)\] "client" "setname" "wechat-oidc-broker"/g)].map((match) => match[1]!);
  return addresses.map((address) => ({ address, quit: seen.includes(` ${address}] "quit"`) }));
}

test('SIGTERM during a login: /readyz turns 503, the login in flight completes, Redis is closed, exit 0', async (t) => {
  const [browser, rpServer, redis] = await Promise.all([launchChromium(), startRpServer(), startRedis()]);
  const redisLog = monitor(redis.port);
  await sleep(200);
  const { broker, simulator, stop } = await startBrokerWithSimulator({
    CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin)), REDIS_URL: redis.url, SHUTDOWN_DELAY_MS: '3000',
  }, [simApp('mp')]);
  try {
    const rp = await createRp(broker.issuer, rpServer);
    const { context, page } = await newPerson(browser, 'wechat');
    await setPhoneUser(context, simulator.url, 'alice');
    const { url, check } = await rp.start({ scope: 'openid' });
    await injectFaults(simulator.url, '/sns/oauth2/access_token', ['slow']);
    const navigation = page.goto(url);
    await atWeChat(simulator.url);
    // The code exchange that follows takes 1.5 s (the `slow` fault): SIGTERM lands during it.
    await sleep(300);
    broker.process.kill('SIGTERM');
    await sleep(200);
    const ready = await fetch(`${broker.origin}/readyz`);
    t.is(ready.status, 503, 'not ready as soon as SIGTERM arrives');
    t.like(await ready.json(), { status: 'stopping' });
    await navigation;
    const tokens = await rp.finish(await rp.landed(page), check);
    t.truthy(tokens.claims()!.sub, 'the login in flight completed');
    await context.close();
    t.is(await broker.stop(), 0);
    t.true(broker.logs().some((line) => line.msg === 'stopped'), 'storage closed before exit');
    await sleep(200);
    const connections = brokerConnections(redisLog.seen());
    t.true(connections.length > 0, 'Redis saw the broker connect');
    t.true(connections.every((connection) => connection.quit), 'Redis saw the broker close each of its connections with QUIT');
  } finally {
    redisLog.stop();
    await Promise.all([browser.close(), rpServer.close(), stop()]);
    await redis.stop();
  }
});
