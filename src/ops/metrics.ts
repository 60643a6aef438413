// Prometheus metrics (prom-client), one registry per broker:
//   broker_logins_total{channel,outcome}
//   broker_wechat_api_duration_seconds{path}, broker_wechat_api_errors_total{path,errcode}
//   broker_tokens_issued_total{grant_type,token_type}
//   broker_storage_operation_duration_seconds{store}, broker_storage_errors_total{store,operation}
//   broker_admin_calls_total{client,action,outcome}
//   broker_follow_qr_codes_total{outcome}: follow-to-login QR codes created, shown again, or refused (the budget spent)
//   broker_phone_numbers_total{outcome}: mini program phone codes redeemed (stored), refused, or failed at WeChat
//   broker_logins_disowned_total: logins a person said were not theirs (their page's "not me"): an alert's signal
//   broker_http_requests_total{endpoint,status}, broker_http_request_duration_seconds{endpoint}: every request
//   and prom-client's default process metrics.

import Router from '@koa/router';
import Koa from 'koa';
import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { listen } from '../http/listen.ts';

export type LoginOutcome =
  | 'success' | 'refused' | 'snapshot' | 'code_rejected' | 'misconfigured' | 'unavailable'
  | 'login_required' | 'consent_required' | 'state_invalid' | 'identity_conflict'
  /** The account kept changing under the login's writes past every retry (logins of one person at once). */
  | 'account_busy'
  /** The account is suspended (an operator's decision). */
  | 'suspended';

/**
 * The endpoint a request's path belongs to, for the request metrics: a fixed set of names
 * (so the label has few values, whatever paths people send), `other` for anything else.
 */
const ENDPOINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\/me\/?$/i, 'userinfo'],
  [/^\/token\/?$/i, 'token'],
  [/^\/token\/introspection\/?$/i, 'introspection'],
  [/^\/token\/revocation\/?$/i, 'revocation'],
  [/^\/auth(\/|$)/i, 'authorization'],
  [/^\/interaction\//i, 'interaction'],
  [/^\/\.well-known\/(openid-configuration|oauth-authorization-server)\/?$/i, 'discovery'],
  [/^\/jwks\/?$/i, 'jwks'],
  [/^\/session\/end(\/|$)/i, 'end_session'],
  [/^\/device\/auth\/?$/i, 'device_authorization'],
  [/^\/device(\/|$)/i, 'device'],
  [/^\/request\/?$/i, 'par'],
  [/^\/h\//i, 'handoff'],
  [/^\/f\//i, 'follow_confirmation'],
  [/^\/account(\/|$)/i, 'account'],
  [/^\/admin\//i, 'admin'],
  [/^\/wechat\/platform\/[^/]+\/authorized?\/?$/i, 'platform_authorization'],
  [/^\/(wechat|wecom)\//i, 'wechat_push'],
  [/^\/(healthz|readyz)\/?$/i, 'health'],
  [/^\/metrics\/?$/i, 'metrics'],
  [/^\/lang\//i, 'language'],
  [/^\/demo(\/|$)/i, 'demo'],
  [/^\/$/, 'home'],
];

export function endpointOf(path: string): string {
  return ENDPOINTS.find(([pattern]) => pattern.test(path))?.[1] ?? 'other';
}

export class BrokerMetrics {
  readonly registry = new Registry();
  readonly #logins = new Counter({ name: 'broker_logins_total', help: 'Logins by channel (web, qr; none when no channel could serve) and outcome', labelNames: ['channel', 'outcome'], registers: [this.registry] });
  readonly #wechatDuration = new Histogram({ name: 'broker_wechat_api_duration_seconds', help: 'WeChat API call latency', labelNames: ['path'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers: [this.registry] });
  readonly #wechatErrors = new Counter({ name: 'broker_wechat_api_errors_total', help: 'WeChat API failures by errcode (timeout, unreachable, malformed for the others)', labelNames: ['path', 'errcode'], registers: [this.registry] });
  readonly #tokens = new Counter({ name: 'broker_tokens_issued_total', help: 'Token endpoint successes by grant type and token type (bearer, or dpop: bound to the client\'s key)', labelNames: ['grant_type', 'token_type'], registers: [this.registry] });
  readonly #storageDuration = new Histogram({ name: 'broker_storage_operation_duration_seconds', help: 'Storage operation latency', labelNames: ['store'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2], registers: [this.registry] });
  readonly #adminCalls = new Counter({ name: 'broker_admin_calls_total', help: 'Admin API calls by calling client, action and outcome (the audit trail is the log)', labelNames: ['client', 'action', 'outcome'], registers: [this.registry] });
  readonly #logoutNotices = new Counter({ name: 'broker_backchannel_logouts_total', help: 'Back-channel logout deliveries by outcome (delivered; retrying after a failure; failed, given up)', labelNames: ['outcome'], registers: [this.registry] });
  readonly #securityEvents = new Counter({ name: 'broker_security_events_total', help: 'Security event deliveries (an erased or merged account, to clients with a security_events_uri) by outcome (delivered; retrying after a failure; failed, given up or refused)', labelNames: ['outcome'], registers: [this.registry] });
  readonly #followQr = new Counter({ name: 'broker_follow_qr_codes_total', help: 'Follow-to-login QR codes: created at WeChat, shown again on a reload, or refused because the per-minute budget was spent', labelNames: ['outcome'], registers: [this.registry] });
  readonly #phoneNumbers = new Counter({ name: 'broker_phone_numbers_total', help: 'POST /account/phone: numbers stored, codes refused (used, expired, another app\'s or person\'s), WeChat unavailable or misconfigured', labelNames: ['outcome'], registers: [this.registry] });
  readonly #disowned = new Counter({ name: 'broker_logins_disowned_total', help: 'Logins a person said were not theirs (their page\'s "not me"), who was then signed out everywhere, by kind (login: with WeChat; device: a device\'s login confirmed with its code)', labelNames: ['kind'], registers: [this.registry] });
  readonly #deviceConfirmations = new Counter({ name: 'broker_device_confirmations_total', help: 'Devices\' logins (RFC 8628) a person confirmed, or refused ("I did not start this"), on the confirmation page', labelNames: ['outcome'], registers: [this.registry] });
  readonly #requests = new Counter({ name: 'broker_http_requests_total', help: 'HTTP requests by endpoint and status code', labelNames: ['endpoint', 'status'], registers: [this.registry] });
  readonly #requestDuration = new Histogram({ name: 'broker_http_request_duration_seconds', help: 'HTTP request duration by endpoint, until the answer is ready to send', labelNames: ['endpoint'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  // By operation too (`find Session`: a few dozen values, and only failures make a series), so that an alert says which read or write fails.
  readonly #storageErrors = new Counter({ name: 'broker_storage_errors_total', help: 'Storage operations that failed or timed out, by store and operation', labelNames: ['store', 'operation'], registers: [this.registry] });

  /** `version`: the broker's, as `broker_build_info{version}` 1 (Prometheus's convention for what a process runs). */
  constructor(version: string) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: 'broker_build_info', help: 'The broker\'s version (package.json), always 1', labelNames: ['version'], registers: [this.registry] }).set({ version }, 1);
  }

  login(channel: string, outcome: LoginOutcome): void {
    this.#logins.inc({ channel, outcome });
  }

  wechatCall(path: string, seconds: number, errcode?: number | string): void {
    this.#wechatDuration.observe({ path }, seconds);
    if (errcode !== undefined) this.#wechatErrors.inc({ path, errcode: String(errcode) });
  }

  logoutNotice(outcome: string): void {
    this.#logoutNotices.inc({ outcome });
  }

  securityEvent(outcome: string): void {
    this.#securityEvents.inc({ outcome });
  }

  adminCall(client: string, action: string, outcome: string): void {
    this.#adminCalls.inc({ client, action, outcome });
  }

  followQr(outcome: 'created' | 'reused' | 'budget_spent'): void {
    this.#followQr.inc({ outcome });
  }

  phoneNumber(outcome: 'stored' | 'refused' | 'unavailable' | 'misconfigured'): void {
    this.#phoneNumbers.inc({ outcome });
  }

  loginDisowned(kind: 'login' | 'device'): void {
    this.#disowned.inc({ kind });
  }

  /** Refusals are how people meet device-code phishing: many of them, someone is sending codes around. */
  deviceConfirmation(outcome: 'confirmed' | 'refused'): void {
    this.#deviceConfirmations.inc({ outcome });
  }

  request(endpoint: string, status: number, seconds: number): void {
    this.#requests.inc({ endpoint, status: String(status) });
    this.#requestDuration.observe({ endpoint }, seconds);
  }

  /** A token endpoint success; `tokenType` as the response said it (RFC 6749 7.1: case-insensitive). */
  tokenIssued(grantType: string, tokenType: unknown): void {
    const type = typeof tokenType === 'string' ? tokenType.toLowerCase() : '';
    this.#tokens.inc({ grant_type: grantType, token_type: type === 'bearer' || type === 'dpop' ? type : 'other' });
  }

  storageOperation(store: string, seconds: number, ok: boolean, operation: string): void {
    this.#storageDuration.observe({ store }, seconds);
    if (!ok) this.#storageErrors.inc({ store, operation });
  }
}

/** GET /metrics; with a token, only for `Authorization: Bearer <token>`. */
export function metricsRoutes(metrics: BrokerMetrics, token: string | undefined): Router {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    if (token !== undefined && !bearerMatches(ctx.get('authorization'), token)) {
      ctx.status = 401;
      ctx.set('www-authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: 'invalid_token' };
      return;
    }
    ctx.set('cache-control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}

function bearerMatches(header: string, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/i.exec(header)?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** /metrics on its own port (METRICS_PORT), away from the public one. */
export async function serveMetrics(metrics: BrokerMetrics, token: string | undefined, host: string, port: number): Promise<Server> {
  const app = new Koa();
  const router = metricsRoutes(metrics, token);
  app.use(router.routes());
  const server = createServer(app.callback());
  await listen(server, port, host, 'METRICS_PORT');
  return server;
}
