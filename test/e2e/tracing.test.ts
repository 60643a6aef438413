// Traces for the operator's tracing system (OpenTelemetry, OTLP over HTTP): a collector
// (here a plain HTTP server taking what the broker sends, as an OpenTelemetry collector
// would) receives a server span for each request, under the caller's traceparent, and a
// client span for each WeChat API call inside the request that made it; no code, token or
// secret among them. A collector that cannot be reached is a warning in the broker's log.
// A push to an app's server is a client span too, and carries its trace to the app.

import test from 'ava';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as oidc from 'openid-client';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startBroker, testClients, writeClientsFile } from '../helpers/broker.ts';
import { freePort } from '../helpers/ports.ts';
import { qrLoginByFetch } from '../helpers/fetch-login.ts';
import { createRp } from '../helpers/rp.ts';
import { startRedis } from '../helpers/redis.ts';
import { startRpServer } from '../helpers/rp-server.ts';
import { until } from '../helpers/wait.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface Attribute { key: string; value: { stringValue?: string; intValue?: string | number; doubleValue?: number } }
interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: Attribute[]; status?: { code?: number } }
interface Export { resourceSpans: Array<{ resource: { attributes: Attribute[] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> }

/** A collector: every export the broker sends to /v1/traces, with its content type. */
async function startCollector() {
  const exports: Array<{ contentType: string | undefined; body: Export }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') exports.push({ contentType: req.headers['content-type'], body: JSON.parse(body) as Export });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports,
    spans: () => exports.flatMap(({ body }) => body.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans))),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((one) => one.key === key)?.value;
  return value?.stringValue ?? value?.doubleValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue));
};
const SERVER = 2;
const CLIENT = 3;

test('with OTEL_EXPORTER_OTLP_ENDPOINT: a span per request under the caller\'s traceparent, and the WeChat call inside the login\'s callback; nothing secret; the last spans sent at shutdown', async (t) => {
  const [collector, rpServer] = await Promise.all([startCollector(), startRpServer()]);
  t.teardown(() => Promise.all([collector.close(), rpServer.close()]));
  const broker = await startBroker({
    CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin)), WECHAT_QR_MODE: 'redirect', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: 'login-broker',
  });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : broker.stop()));

  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpan = '00f067aa0ba902b7';
  const discovery = await fetch(`${broker.issuer}/.well-known/openid-configuration`, { headers: { traceparent: `00-${traceId}-${callerSpan}-01` } });
  t.is(discovery.status, 200);
  const rp = await createRp(broker.issuer, rpServer);
  const { url, check } = await rp.start();
  const { landed } = await qrLoginByFetch(url, { issuer: broker.issuer, direct: broker.origin }, broker.simulator);
  const tokens = await rp.finish(new URL(landed), check);
  await broker.stop();
  stopped = true;

  t.true(collector.exports.length > 0, 'sent by the time the broker stopped');
  for (const { contentType, body } of collector.exports) {
    t.regex(String(contentType), /^application\/json/);
    t.true(body.resourceSpans.every((resource) => resource.resource.attributes.some((one) => one.key === 'service.name' && one.value.stringValue === 'login-broker')));
    t.true(body.resourceSpans.every((resource) => resource.resource.attributes.some((one) => one.key === 'service.version' && one.value.stringValue === VERSION)), 'the broker\'s version');
  }
  const spans = collector.spans();
  const asked = spans.find((span) => span.kind === SERVER && span.traceId === traceId);
  t.truthy(asked, 'the request the caller traced is in its trace');
  t.is(asked?.parentSpanId, callerSpan, 'a child of the caller\'s span');
  t.is(attribute(asked!, 'url.path'), '/.well-known/openid-configuration');
  t.is(attribute(asked!, 'http.response.status_code'), 200);
  t.is(attribute(asked!, 'broker.request_id'), discovery.headers.get('x-request-id') ?? undefined, 'the same id as the request line and the response');

  const exchange = spans.find((span) => span.kind === CLIENT && span.name === 'WeChat /sns/oauth2/access_token');
  t.truthy(exchange, 'the code exchange with WeChat');
  const around = spans.find((span) => span.spanId === exchange?.parentSpanId);
  t.is(around?.kind, SERVER, 'inside the request that made it');
  t.is(around?.traceId, exchange?.traceId);
  t.regex(String(attribute(around!, 'url.path')), /^\/interaction\//, 'the login\'s callback');

  // Each log line of a request names its span's trace, though its caller sent no traceparent.
  const callbackRequest = attribute(around!, 'broker.request_id');
  const callbackLines = broker.logs().filter((line) => line.reqId === callbackRequest || (line.req as { id?: string } | undefined)?.id === callbackRequest);
  t.true(callbackLines.length >= 2, 'the request line and at least one line about the login');
  t.true(callbackLines.every((line) => (line.traceId ?? (line.req as { traceId?: string }).traceId) === around?.traceId));
  const token = spans.find((span) => span.kind === SERVER && span.name === 'POST token');
  const tokenLine = broker.logs().find((line) => line.msg === 'request' && (line.req as { path?: string }).path === '/token');
  t.is((tokenLine?.req as { traceId?: string } | undefined)?.traceId, token?.traceId);

  const sent = JSON.stringify(collector.exports);
  t.false(sent.includes('code='), 'no query string, so no code');
  t.false(sent.includes(tokens.access_token));
  t.false(sent.includes(tokens.claims()!.sub), 'nobody\'s sub');
});

test('a collector that cannot be reached: the broker works on, and its log says the traces were not sent, and where to', async (t) => {
  const collector = `http://127.0.0.1:${await freePort()}`;
  const broker = await startBroker({ OTEL_EXPORTER_OTLP_ENDPOINT: collector });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : broker.stop()));
  t.is((await fetch(`${broker.issuer}/.well-known/openid-configuration`)).status, 200);
  await broker.stop();
  stopped = true;
  const warning = broker.logs().find((line) => line.msg === 'traces not sent');
  t.like(warning, { level: 40, collector });
  t.regex(String(warning?.reason), /ECONNREFUSED/);
  t.true(broker.logs().some((line) => line.msg === 'stopped'), 'and it stopped cleanly');
  t.false(broker.logs().some((line) => Number(line.level) >= 50), 'nothing logged as an error');
});

test('TRACES_SAMPLE_RATIO=0: a request the caller did not trace sends nothing, and its log lines name no trace; one in the caller\'s sampled trace is traced all the same', async (t) => {
  const collector = await startCollector();
  t.teardown(() => collector.close());
  const broker = await startBroker({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, TRACES_SAMPLE_RATIO: '0' });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : broker.stop()));
  const unsampled = await fetch(`${broker.issuer}/jwks`);
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const sampled = await fetch(`${broker.issuer}/.well-known/openid-configuration`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
  await broker.stop();
  stopped = true;
  const spans = collector.spans();
  t.deepEqual(spans.map((span) => attribute(span, 'url.path')), ['/.well-known/openid-configuration'], 'only the request in a sampled trace');
  t.is(spans[0]?.traceId, traceId);
  const line = (id: string | null) => broker.logs().find((entry) => entry.msg === 'request' && (entry.req as { id?: string }).id === id)?.req as { traceId?: string } | undefined;
  t.is(line(unsampled.headers.get('x-request-id'))?.traceId, undefined, 'no trace the operator could not find');
  t.is(line(sampled.headers.get('x-request-id'))?.traceId, traceId);
});

test('on Redis, each storage operation of a traced request is a client span of it, named by the store and the operation, and the request says how many and how long', async (t) => {
  const [collector, rpServer, redis] = await Promise.all([startCollector(), startRpServer(), startRedis()]);
  t.teardown(async () => { await Promise.all([collector.close(), rpServer.close()]); await redis.stop(); });
  const broker = await startBroker({
    CLIENTS_FILE: writeClientsFile(testClients(rpServer.origin)), WECHAT_QR_MODE: 'redirect', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, REDIS_URL: redis.url,
  });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : broker.stop()));
  const rp = await createRp(broker.issuer, rpServer);
  const { url, check } = await rp.start();
  const { landed } = await qrLoginByFetch(url, { issuer: broker.issuer, direct: broker.origin }, broker.simulator);
  await rp.finish(new URL(landed), check);
  await broker.stop();
  stopped = true;
  const spans = collector.spans();
  const callback = spans.find((span) => span.kind === SERVER && spans.some((child) => child.parentSpanId === span.spanId && child.name === 'WeChat /sns/oauth2/access_token'));
  t.true(Number(attribute(callback!, 'broker.storage.operations')) >= 2, 'the login attempt read, the account written, …');
  t.true(Number(attribute(callback!, 'broker.storage.ms')) >= 0);
  const operations = spans.filter((span) => span.parentSpanId === callback!.spanId && attribute(span, 'db.system.name') === 'redis');
  t.is(operations.length, Number(attribute(callback!, 'broker.storage.operations')), 'a span for each operation counted');
  t.true(operations.every((span) => span.kind === CLIENT && /^Redis( \(accounts\))? \w+( \w+)?$/.test(span.name) && span.name.endsWith(String(attribute(span, 'db.operation.name')))));
  const names = operations.map((span) => span.name);
  for (const name of ['Redis claim WeChatLoginAttempt', 'Redis (accounts) create', 'Redis upsert Interaction']) t.true(names.includes(name), `${name} in ${names.join(', ')}`);
  const discovery = spans.find((span) => span.kind === SERVER && attribute(span, 'url.path') === '/.well-known/openid-configuration');
  t.is(discovery && attribute(discovery, 'broker.storage.operations'), undefined, 'a request that touched no storage says nothing of it');
});

test('a push to an app\'s server (a logout token, a security event) is a client span in the trace of the request that caused it, retries too, and carries that span to the app', async (t) => {
  const [collector, rpServer] = await Promise.all([startCollector(), startRpServer()]);
  t.teardown(() => Promise.all([collector.close(), rpServer.close()]));
  const secret = (id: string) => `${id}-secret-0123456789abcdef0123456789`;
  const listening = {
    client_id: 'listening', client_secret: secret('listening'), first_party: true, redirect_uris: [rpServer.callback], grant_types: ['authorization_code'],
    backchannel_logout_uri: rpServer.backchannel, security_events_uri: rpServer.securityEvents,
  };
  const ops = { client_id: 'ops', client_secret: secret('ops'), grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'accounts:write' };
  // Only what a caller traces is traced: the erasure below.
  const broker = await startBroker({
    CLIENTS_FILE: writeClientsFile([...testClients(rpServer.origin), listening, ops]), WECHAT_QR_MODE: 'redirect',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, TRACES_SAMPLE_RATIO: '0',
  });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : broker.stop()));
  const rp = await createRp(broker.issuer, rpServer, 'listening', secret('listening'));
  const { url, check } = await rp.start();
  const { landed } = await qrLoginByFetch(url, { issuer: broker.issuer, direct: broker.origin }, broker.simulator);
  const sub = (await rp.finish(new URL(landed), check)).claims()!.sub;
  const opsConfig = await oidc.discovery(new URL(broker.issuer), 'ops', secret('ops'), undefined, { execute: [oidc.allowInsecureRequests] });
  const token = (await oidc.clientCredentialsGrant(opsConfig, { scope: 'accounts:write' })).access_token;

  rpServer.failNext(1);
  const traceId = 'a3ce929d0e0e47364bf92f3577b34da6';
  const erased = await fetch(`${broker.issuer}/admin/accounts/${sub}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
  t.is(erased.status, 204);
  await until('the logout token (on its second attempt) and the security event are delivered', () => ['back-channel logout delivered', 'security event delivered']
    .every((msg) => broker.logs().some((line) => line.msg === msg)));
  await broker.stop();
  stopped = true;

  const spans = collector.spans();
  const erasure = spans.find((span) => span.kind === SERVER && span.traceId === traceId);
  t.is(erasure?.name, 'DELETE admin');
  t.is(attribute(erasure!, 'url.path'), '/admin/accounts/…', 'the person\'s sub left out of the path');
  const received = rpServer.deliveryTraces();
  t.deepEqual(received.map(({ to }) => to).sort(), ['backchannel', 'backchannel', 'security-events'], 'the logout token twice (a 500 first), the security event once');
  for (const { to, traceparent } of received) {
    const [, trace, parent] = String(traceparent).split('-');
    t.is(trace, traceId, `${to}: in the caller's trace`);
    const attempt = spans.find((span) => span.spanId === parent);
    t.is(attempt?.kind, CLIENT, `${to}: its parent is the attempt's span`);
    t.is(attempt?.parentSpanId, erasure?.spanId, `${to}: inside the erasure's request`);
    t.is(attempt?.name, to === 'backchannel' ? 'POST back-channel logout' : 'POST security event');
    t.like({ client: attribute(attempt!, 'broker.client_id'), host: attribute(attempt!, 'server.address') }, { client: 'listening', host: '127.0.0.1' });
  }
  const logouts = spans.filter((span) => span.name === 'POST back-channel logout').sort((a, b) => Number(attribute(a, 'broker.delivery.attempt')) - Number(attribute(b, 'broker.delivery.attempt')));
  t.deepEqual(logouts.map((span) => [attribute(span, 'broker.delivery.attempt'), span.status?.code ?? 0]), [[1, 2], [2, 0]], 'the failed attempt an error, the retry not');
  t.false(JSON.stringify(collector.exports).includes(sub), 'nobody\'s sub: the attempts name the app, the erasure\'s path leaves it out');
});
