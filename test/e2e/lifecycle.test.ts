// Stopping as Docker and Kubernetes do (SIGTERM): not ready at once, requests in flight
// finish, storage connections close, exit code 0.

import test from 'ava';
import { startBrokerWithSimulator, testClients, writeClientsFile } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { monitor, startRedis } from '../helpers/redis.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer } from '../helpers/rp-server.ts';
import { injectFaults, setPhoneUser, simApp, whileHeld } from '../helpers/simulator.ts';
import { eventually, until } from '../helpers/wait.ts';

/** The client addresses that named themselves as the broker, and whether each sent QUIT. */
function brokerConnections(seen: string): Array<{ address: string; quit: boolean }> {
  const addresses = [...seen.matchAll(/\[\d+ ([\d.:]+)\] "client" "setname" "wechat-oidc-broker"/g)].map((match) => match[1]!);
  return addresses.map((address) => ({ address, quit: seen.includes(` ${address}] "quit"`) }));
}

test.serial('SIGTERM during a login: /readyz turns 503, the login in flight completes, Redis is closed, exit 0', async (t) => {
  const [browser, rpServer, redis] = await Promise.all([launchChromium(), startRpServer(), startRedis()]);
  const redisLog = await monitor(redis.port);
  const { broker, simulator, stop } = await startBrokerWithSimulator({
    CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin)), REDIS_URL: redis.url, SHUTDOWN_DELAY_MS: '15000', WECHAT_TIMEOUT_MS: '60000',
  }, [simApp('mp')]);
  try {
    const rp = await createRp(broker.issuer, rpServer);
    const { context, page } = await newPerson(browser, 'wechat');
    await setPhoneUser(context, simulator.url, 'alice');
    const { url, check } = await rp.start({ scope: 'openid' });
    // The code exchange is held at the simulator until SIGTERM has landed and been seen.
    await injectFaults(simulator.url, '/sns/oauth2/access_token', ['hold']);
    const navigation = page.goto(url);
    await whileHeld(simulator.url, '/sns/oauth2/access_token', async () => {
      broker.process.kill('SIGTERM');
      const ready = await until('/readyz says stopping', async () => {
        const answer = await fetch(`${broker.origin}/readyz`);
        return answer.status === 503 ? answer : undefined;
      });
      t.like(await ready.json(), { status: 'stopping' }, 'not ready once SIGTERM has arrived');
    });
    await navigation;
    const tokens = await rp.finish(await rp.landed(page), check);
    t.truthy(tokens.claims()!.sub, 'the login in flight completed');
    await context.close();
    t.is(await broker.stop(), 0);
    t.true(await broker.logged((line) => line.msg === 'stopped'), 'storage closed before exit');
    // MONITOR's pipe lags behind Redis: wait for every QUIT to come through.
    const connections = await eventually(() => {
      const seen = brokerConnections(redisLog.seen());
      return seen.length > 0 && seen.every((connection) => connection.quit) ? seen : undefined;
    }) ?? brokerConnections(redisLog.seen());
    t.true(connections.length > 0, 'Redis saw the broker connect');
    t.true(connections.every((connection) => connection.quit), 'Redis saw the broker close each of its connections with QUIT');
  } finally {
    redisLog.stop();
    await Promise.all([browser.close(), rpServer.close(), stop()]);
    await redis.stop();
  }
});
