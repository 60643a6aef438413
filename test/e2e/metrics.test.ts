// Prometheus metrics as an operator scrapes them: after real logins, behind a bearer
// token, or on a separate port.

import test from 'ava';
import { readFileSync } from 'node:fs';
import { startBroker, testClients, writeClientsFile } from '../helpers/broker.ts';
import { launchChromium, newPerson } from '../helpers/browser.ts';
import { freePort } from '../helpers/ports.ts';
import { startRedis } from '../helpers/redis.ts';
import { createRp } from '../helpers/rp.ts';
import { startRpServer } from '../helpers/rp-server.ts';
import { injectFaults, setPhoneUser } from '../helpers/simulator.ts';

const TOKEN = 'metrics-token-0123456789abcdef';

function value(metrics: string, series: string): number {
  const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

test.serial('logins, WeChat calls and errcodes, tokens, storage and process metrics, behind a bearer token', async (t) => {
  const [browser, rpServer, redis] = await Promise.all([launchChromium(), startRpServer(), startRedis()]);
  const broker = await startBroker({ CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin)), REDIS_URL: redis.url, METRICS_TOKEN: TOKEN });
  try {
    const rp = await createRp(broker.issuer, rpServer);
    const { context, page } = await newPerson(browser, 'wechat');
    await setPhoneUser(context, broker.simulator, 'alice');
    await injectFaults(broker.simulator, '/sns/oauth2/access_token', ['busy']);
    const { url, check } = await rp.start({ scope: 'openid' });
    await page.goto(url);
    await rp.finish(await rp.landed(page), check);
    await context.close();

    t.is((await fetch(`${broker.issuer}/metrics`)).status, 401);
    t.is((await fetch(`${broker.issuer}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789abc' } })).status, 401);
    const response = await fetch(`${broker.issuer}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    t.is(response.status, 200);
    const metrics = await response.text();
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    t.is(value(metrics, `broker_build_info{version="${version}"}`), 1, 'which version this instance runs');
    t.is(value(metrics, 'broker_logins_total{channel="web",outcome="success"}'), 1);
    t.is(value(metrics, 'broker_wechat_api_errors_total{path="/sns/oauth2/access_token",errcode="-1"}'), 1);
    t.is(value(metrics, 'broker_wechat_api_duration_seconds_count{path="/sns/oauth2/access_token"}'), 2, 'the busy answer and the retry');
    t.is(value(metrics, 'broker_tokens_issued_total{grant_type="authorization_code",token_type="bearer"}'), 1);
    t.true(value(metrics, 'broker_storage_operation_duration_seconds_count{store="Redis"}') > 10);
    t.true(value(metrics, 'process_cpu_user_seconds_total') > 0);
    t.is(value(metrics, 'broker_http_requests_total{endpoint="metrics",status="401"}'), 2, 'every request, by endpoint and status');
    t.is(value(metrics, 'broker_http_requests_total{endpoint="token",status="200"}'), 1);
    t.true(value(metrics, 'broker_http_requests_total{endpoint="interaction",status="200"}') >= 1);
    t.true(value(metrics, 'broker_http_request_duration_seconds_count{endpoint="authorization"}') >= 2, 'the login\'s start and its return');
    await fetch(`${broker.issuer}/no/such/page`);

    await redis.stop();
    const since = broker.logs().length;
    const failed = await fetch(`${broker.issuer}/h/abcdefghjk`, { headers: { 'user-agent': 'Mozilla/5.0 (iPhone) MicroMessenger/8.0.40' } });
    t.is(failed.status, 503, 'Redis down: the storage page');
    t.true(await broker.logged((line) => line.msg === 'request' && (line.res as { status?: number }).status === 503, undefined, since), 'the request line says 503, as answered');
    const after = await (await fetch(`${broker.issuer}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    t.is(value(after, 'broker_http_requests_total{endpoint="handoff",status="503"}'), 1, 'counted as answered, not as the 404 a failing route leaves');
    t.is(value(after, 'broker_http_requests_total{endpoint="other",status="404"}'), 1, 'a path the broker does not have');
    t.true(value(after, 'broker_storage_errors_total{store="Redis",operation="find WeChatHandoff"}') >= 1, 'the failed operation, by name');
  } finally {
    await broker.stop();
    await Promise.all([browser.close(), rpServer.close(), redis.stop()]);
  }
});

/** The series a PromQL text names (a histogram's by its name, not its _bucket). */
const seriesIn = (promql: string) => new Set([...promql.matchAll(/\b((?:broker|process|nodejs)_[a-z0-9_]+?)(?:_bucket)?\b/g)].map((match) => match[1]!));

test.serial('the README\'s alerts and the Grafana dashboard (examples/) name only series the broker exports; the dashboard is one Grafana can import', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const rules = seriesIn(/Alerts worth having[^]*?```promql\n([^]*?)```/.exec(readme)?.[1] ?? '');
  t.true(rules.size >= 5, [...rules].join(', '));
  const dashboard = JSON.parse(readFileSync(new URL('../../examples/grafana-dashboard.json', import.meta.url), 'utf8')) as {
    uid: string; templating: { list: Array<{ name: string; type: string }> }; panels: Array<{ id: number; title: string; targets: Array<{ expr: string; datasource: { uid: string } }> }>;
  };
  t.deepEqual(dashboard.templating.list.map(({ name, type }) => [name, type]), [['datasource', 'datasource']], 'the Prometheus data source is picked on import');
  t.is(new Set(dashboard.panels.map((panel) => panel.id)).size, dashboard.panels.length, 'panel ids unique');
  const targets = dashboard.panels.flatMap((panel) => panel.targets);
  t.true(targets.every((target) => target.datasource.uid === '${datasource}'));
  const charted = seriesIn(targets.map((target) => target.expr).join('\n'));
  t.true(charted.size >= 12, [...charted].join(', '));
  const broker = await startBroker({});
  try {
    const exported = await (await fetch(`${broker.issuer}/metrics`)).text();
    for (const name of [...rules, ...charted]) t.regex(exported, new RegExp(`^# TYPE ${name} `, 'm'), name);
  } finally {
    await broker.stop();
  }
});

test.serial('METRICS_PORT: /metrics on its own port only', async (t) => {
  const port = await freePort();
  const broker = await startBroker({ METRICS_PORT: String(port) });
  try {
    t.is((await fetch(`${broker.issuer}/metrics`)).status, 404);
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    t.is(metrics.status, 200);
    t.regex(await metrics.text(), /^# HELP broker_logins_total/m);
  } finally {
    await broker.stop();
  }
});
