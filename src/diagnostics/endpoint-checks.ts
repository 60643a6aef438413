// What the broker reaches beyond WeChat, from here, before a person needs it. Each relying
// party's keys (`jwks_uri`: without them every token request it makes with private_key_jwt is
// refused, invalid_client) and where it hears of logouts and erased or merged accounts
// (`backchannel_logout_uri`, `security_events_uri`: unreachable, every delivery is given up);
// the push endpoints are only asked for their headers (HEAD): any HTTP answer shows they are
// reachable, and nothing is delivered to them. And the traces' collector, when traces are
// sent: an empty export, which an OTLP/HTTP receiver accepts.

import type { ClientMetadata } from '../config/config.ts';
import { PUSH_TIMEOUT_MS as TIMEOUT_MS } from '../oidc/security-events.ts';
import { fail, networkReason, ok, type Check, type Finding } from './findings.ts';

/** `uri` as a finding shows it, and whether it carries a user and password (never shown). */
function shown(uri: string): { seen: string; credentials: boolean } {
  if (!URL.canParse(uri)) return { seen: uri, credentials: false };
  const url = new URL(uri);
  if (!url.username && !url.password) return { seen: uri, credentials: false };
  [url.username, url.password] = ['', ''];
  return { seen: url.href, credentials: true };
}

/** A URI with credentials in it: fetch (the broker's, oidc-provider's through it) refuses to send them. */
const CREDENTIALS = 'carries a user and password (user:password@), which the broker\'s requests cannot send';

/** The client's keys: an answer with a JSON Web Key Set holding at least one key (RFC 7517 5). */
async function keysFinding(client: string, uri: string): Promise<Finding> {
  const { seen, credentials } = shown(uri);
  const advice = {
    zh: `确认 ${seen} 能从本服务所在的网络访问，并返回含有公钥的 JWKS（{"keys": [...]}）；否则该客户端用私钥签名的每个令牌请求都会被拒绝。`,
    en: `Make ${seen} reachable from the broker's network and answer a JWKS with the public keys ({"keys": [...]}); until then every token request the client signs is refused.`,
  };
  if (credentials) return fail('client-keys', client, `${seen} ${CREDENTIALS}`, advice);
  try {
    const answer = await fetch(uri, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/json' } });
    const body = await answer.json().catch(() => undefined) as { keys?: unknown } | undefined;
    const count = Array.isArray(body?.keys) ? body.keys.length : 0;
    if (answer.ok && count > 0) return ok('client-keys', client, `${seen}: ${count} key${count > 1 ? 's' : ''}`);
    return fail('client-keys', client, `${seen} answered ${answer.status} without keys`, advice);
  } catch (error) {
    return fail('client-keys', client, `${seen} cannot be fetched: ${networkReason(error, TIMEOUT_MS)}`, advice);
  }
}

/** The push endpoints, and the check each one's finding is under. */
const PUSHES = { backchannel_logout_uri: 'backchannel-logout', security_events_uri: 'security-events' } as const;

/** A push endpoint: reachable when it answers anything at all. */
async function pushFinding(client: string, check: string, uri: string): Promise<Finding> {
  const { seen, credentials } = shown(uri);
  const advice = {
    zh: `确认 ${seen} 能从本服务所在的网络访问（域名解析、防火墙、证书），地址里不带用户名和密码；否则退出、账户删除和合并的通知都到不了该应用。`,
    en: `Make ${seen} reachable from the broker's network (DNS, firewall, certificate), with no user and password in it; until then logouts and erased or merged accounts never reach the app.`,
  };
  if (credentials) return fail(check, client, `${seen} ${CREDENTIALS}`, advice);
  try {
    const answer = await fetch(uri, { method: 'HEAD', signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
    return ok(check, client, `${seen} answers (HTTP ${answer.status} to HEAD)`);
  } catch (error) {
    return fail(check, client, `${seen} cannot be reached: ${networkReason(error, TIMEOUT_MS)}; what the broker pushes there is given up`, advice);
  }
}

/** Every client's keys URL and push endpoints, each fetched once. */
export function clientEndpointsCheck(clients: readonly ClientMetadata[]): Check {
  return {
    name: 'client-endpoints',
    run: () => Promise.all(clients.flatMap((client) => {
      const { client_id: id, jwks_uri: keys } = client;
      const pushes = Object.entries(PUSHES).flatMap(([field, check]) => {
        const uri = client[field];
        return typeof uri === 'string' ? [pushFinding(id, check, uri)] : [];
      });
      return [...(typeof keys === 'string' ? [keysFinding(id, keys)] : []), ...pushes];
    })),
  };
}

/** The traces' collector (OTEL_EXPORTER_OTLP_ENDPOINT): an export with no spans, which it takes with a 2xx (OTLP/HTTP). */
export function collectorCheck(endpoint: string): Check {
  const url = `${endpoint}/v1/traces`;
  const advice = {
    zh: `确认 ${url} 是 OTLP/HTTP 采集器的地址（通常是 4318 端口），并能从本服务所在的网络访问；否则链路追踪发不出去。`,
    en: `Make ${url} an OTLP/HTTP collector's address (port 4318, usually), reachable from the broker's network; until then no trace is sent.`,
  };
  return {
    name: 'traces',
    run: async () => {
      try {
        const answer = await fetch(url, { method: 'POST', body: '{"resourceSpans":[]}', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
        return [answer.ok ? ok('traces', 'OTEL_EXPORTER_OTLP_ENDPOINT', `${url} takes traces (HTTP ${answer.status})`) : fail('traces', 'OTEL_EXPORTER_OTLP_ENDPOINT', `${url} answered ${answer.status}`, advice)];
      } catch (error) {
        return [fail('traces', 'OTEL_EXPORTER_OTLP_ENDPOINT', `${url} cannot be reached: ${networkReason(error, TIMEOUT_MS)}`, advice)];
      }
    },
  };
}
