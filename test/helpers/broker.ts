// Starts the broker the way a user does (`node src/main.ts` with environment variables)
// and stops it, whatever the test's outcome.

import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import type { SimApp } from '../../src/simulator/world.ts';
import { freePort } from './ports.ts';
import { CHILD_ENV, startProcess, stopProcess } from './process.ts';
import { eventually } from './wait.ts';
import { addCallbackHost, simApp, startTestSimulator, wechatEnv } from './simulator.ts';
import { tempDir } from './temp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));


export interface RunningBroker {
  readonly issuer: string;
  /** This instance itself (not the proxy an ISSUER may name). */
  readonly origin: string;
  readonly simulator: string;
  readonly process: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Log lines (JSON) printed so far. */
  logs(): Array<Record<string, unknown>>;
  /** Whether a log line matching `match` is printed (pipes lag behind HTTP answers; waits up to `timeoutMs`, default WAIT_LIMIT_MS), counting lines from index `since`. */
  logged(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number, since?: number): Promise<boolean>;
  stop(): Promise<number | null>;
}

/** The company's API among the test clients (oidc/api-resources.ts), which first-party and third-party may use. */
export const TEST_API = 'https://api.example.com/orders';

/** The relying parties the e2e tests use, redirecting to the RP server at `rp`. */
export function testClients(rp: string) {
  return [
    {
      client_id: 'first-party', client_secret: 'first-party-secret-0123456789abcdef', client_name: 'First Party',
      redirect_uris: [`${rp}/callback`], post_logout_redirect_uris: [`${rp}/logged-out`], first_party: true, resources: [TEST_API],
    },
    {
      client_id: 'orders', client_secret: 'orders-secret-0123456789abcdef0123456789', client_name: 'Orders', 'client_name#zh-CN': '订单服务',
      grant_types: [], response_types: [], redirect_uris: [], resource_server: true, resource: TEST_API,
      resource_scopes: { 'orders:read': { 'zh-CN': '查看你的订单', en: 'See your orders' }, 'orders:write': 'Place orders for you' },
    },
    {
      client_id: 'third-party', client_secret: 'third-party-secret-0123456789abcdef', client_name: 'Third <Party> App',
      redirect_uris: [`${rp}/callback`, `${rp}/other`], post_logout_redirect_uris: [`${rp}/logged-out`], resources: [TEST_API],
    },
    {
      client_id: 'rs256', client_secret: 'rs256-secret-0123456789abcdef0123', id_token_signed_response_alg: 'RS256',
      redirect_uris: [`${rp}/callback`], first_party: true,
    },
    {
      client_id: 'es256', client_secret: 'es256-secret-0123456789abcdef0123', id_token_signed_response_alg: 'ES256',
      redirect_uris: [`${rp}/callback`], first_party: true,
    },
    {
      client_id: 'branded', client_secret: 'branded-secret-0123456789abcdef01234', client_name: 'Shop',
      'client_name#zh-CN': '示例商城', 'client_name#en': 'Example Shop', client_uri: 'https://shop.example',
      policy_uri: 'https://shop.example/privacy', tos_uri: 'https://shop.example/terms',
      redirect_uris: [`${rp}/callback`], post_logout_redirect_uris: [`${rp}/logged-out`],
    },
    {
      client_id: 'api', client_secret: 'api-secret-0123456789abcdef0123456789', redirect_uris: [`${rp}/callback`], resource_server: true,
    },
    {
      client_id: 'spa', token_endpoint_auth_method: 'none', redirect_uris: [`${rp}/callback`], first_party: true,
    },
    // Devices (RFC 8628): the company's own TV app, and another company's kiosk.
    {
      client_id: 'tv', client_name: '客厅电视', 'client_name#en': 'Living Room TV', token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_GRANT, 'refresh_token'], response_types: [], redirect_uris: [], scope: 'openid profile offline_access', first_party: true, resources: [TEST_API],
    },
    {
      client_id: 'kiosk', client_name: '门店自助机', token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT], response_types: [], redirect_uris: [], scope: 'openid profile',
    },
  ];
}

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export function writeClientsFile(clients: unknown): string {
  const dir = tempDir('broker-clients');
  const file = join(dir, 'clients.json');
  writeFileSync(file, JSON.stringify(clients));
  return file;
}

/**
 * Starts a broker on `env.PORT`, or on a free port chosen here (tried again with another
 * when some other process takes it first). The simulator, in dev mode, takes any free port
 * and is found in the banner.
 */
export async function startBroker(env: Record<string, string> = {}): Promise<RunningBroker> {
  for (let attempt = 1; ; attempt += 1) {
    const port = env.PORT ? Number(env.PORT) : await freePort();
    try {
      return await launchBroker(port, env);
    } catch (error) {
      if (env.PORT || attempt >= 3 || !/EADDRINUSE/.test((error as Error).message)) throw error;
    }
  }
}

/** The banner's lines (main.ts): its title, then a label and its value. */
const BANNER = /^ {2}(WeChat OIDC broker \S+ on Node\.js \S+$|(URL|discovery|mode|storage|upstreams|platforms|QR mode|sessions|metrics|console|admin API|simulator|demo|warning|doctor)\s)/;

/** What the broker printed that is neither its banner nor a JSON log line (a library's notice, a stack trace). */
function strayLines(output: string): string[] {
  return output.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{') && !BANNER.test(line));
}

async function launchBroker(port: number, env: Record<string, string>): Promise<RunningBroker> {
  const what = `broker on port ${port}`;
  const started = await startProcess(process.execPath, ['--experimental-strip-types', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...CHILD_ENV,
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: `http://127.0.0.1:${port}`,
      WECHAT_SIMULATOR_PORT: '0',
      LOG_LEVEL: 'debug',
      ...env,
    },
    ready: (printed) => printed.includes('broker started'),
    what,
  });
  const { child, output } = started;

  const simulator = /simulator\s+(http:\/\/\S+)/.exec(output())?.[1] ?? '';
  const logs = () => output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    issuer: env.ISSUER ?? `http://127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    simulator,
    process: child,
    output,
    logs,
    logged: (match, timeoutMs, since = 0) => eventually(() => logs().slice(since).some(match), timeoutMs),
    stop: async () => {
      const code = await stopProcess(started, what);
      const stray = strayLines(output());
      if (stray.length > 0) throw new Error(`${what} printed outside its banner and JSON log:\n${stray.join('\n')}`);
      return code;
    },
  };
}

export interface BrokerWithSimulator {
  readonly broker: RunningBroker;
  /** A standalone simulator holding `apps`, with the broker's host as a callback domain. */
  readonly simulator: RunningSimulator;
  readonly apps: readonly SimApp[];
  stop(): Promise<void>;
}

/**
 * A broker configured with WeChat credentials (not dev mode's built-in simulator), against
 * a standalone simulator that plays WeChat for them. `secrets` overrides what the broker
 * is given (say, a wrong secret).
 */
export async function startBrokerWithSimulator(
  env: Record<string, string> = {}, apps: readonly SimApp[] = [simApp('mp'), simApp('open')], secrets: Record<string, string> = {},
): Promise<BrokerWithSimulator> {
  const simulator = await startTestSimulator(apps);
  try {
    const broker = await startBroker({ ...wechatEnv(simulator, apps), ...secrets, ...env });
    await addCallbackHost(simulator.url, new URL(broker.issuer).host);
    return { broker, simulator, apps, stop: async () => { await Promise.all([broker.stop(), simulator.close()]); } };
  } catch (error) {
    await simulator.close();
    throw error;
  }
}
