// Stopping as Docker and Kubernetes do (SIGTERM): not ready at once, requests in flight
// finish, storage connections close, exit code 0.

import test from 'ava';
import { randomBytes } from 'node:crypto';
import { startBroker, testClients, writeClientsFile } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { startRedis } from '../helpers/redis.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer } from '../helpers/rp-server.ts';
import { setPhoneUser } from '../helpers/simulator.ts';
import { startSimulator } from '../../src/simulator/server.ts';

test('SIGTERM during a login: /readyz turns 503, the login in flight completes, Redis is closed, exit 0', async (t) => {
  const mp = { kind: 'mp' as const, appid: `wx${randomBytes(8).toString('hex')}`, secret: randomBytes(16).toString('hex'), bound: true };
  const [browser, rpServer, redis, simulator] = await Promise.all([
    launchChromium(), startRpServer(), startRedis(),
    startSimulator({ apps: [mp], callbackHosts: [], host: '127.0.0.1', port: 0 }),
  ]);
  const broker = await startBroker({
    CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin)),
    REDIS_URL: redis.url,
    WECHAT_MP_APPID: mp.appid,
    WECHAT_MP_SECRET: mp.secret,
    WECHAT_CONNECT_URL: simulator.url,
    WECHAT_API_URL: simulator.url,
    SHUTDOWN_DELAY_MS: '3000',
  });
  simulator.world.callbackHosts.add(new URL(broker.issuer).host);
  try {
    const rp = await createRp(broker.issuer, rpServer);
    const { context, page } = await newPerson(browser, 'wechat');
    await setPhoneUser(context, simulator.url, 'alice');
    const { url, check } = await rp.start({ scope: 'openid' });
    simulator.world.injectFaults('/sns/oauth2/access_token', ['slow']);
    const atWeChat = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (simulator.world.calls.some((call) => call.path === '/connect/oauth2/authorize')) { clearInterval(timer); resolve(); }
      }, 20);
    });
    const navigation = page.goto(url);
    await atWeChat;
    // The code exchange that follows takes 1.5 s (the `slow` fault): SIGTERM lands during it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    broker.process.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const ready = await fetch(`${broker.origin}/readyz`);
    t.is(ready.status, 503, 'not ready as soon as SIGTERM arrives');
    t.like(await ready.json(), { status: 'stopping' });
    await navigation;
    const tokens = await rp.finish(await rp.landed(page), check);
    t.truthy(tokens.claims()!.sub, 'the login in flight completed');
    await context.close();
    t.is(await broker.stop(), 0);
    t.true(broker.logs().some((line) => line.msg === 'stopped'), 'storage closed before exit');
  } finally {
    await Promise.all([browser.close(), rpServer.close(), simulator.close(), broker.stop()]);
    await redis.stop();
  }
});
