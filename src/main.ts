// Process entry: configuration → broker → listen → banner; SIGTERM/SIGINT stop it cleanly.

import { createServer, type Server } from 'node:http';
import { createBroker, type Broker } from './app.ts';
import { ANY_OPERATOR, loadConfig } from './config/config.ts';
import { ConfigError } from './config/errors.ts';
import { BROKER_VERSION } from './config/version.ts';
import { listen, ListenError } from './http/listen.ts';
import { serveMetrics } from './ops/metrics.ts';
import { shutdown } from './ops/shutdown.ts';
import { APP_KINDS } from './wechat/types.ts';

/** A lifetime as an operator set it: whole days, else hours. */
const lifetime = (seconds: number) => (seconds % 86_400 === 0 ? `${seconds / 86_400} days` : `${seconds / 3600} hours`);

/** Who may use the operator console, when anyone may. */
function consoleLine(config: Broker['config']): string | undefined {
  const { consoleOperators: operators } = config;
  if (operators.size === 0) return undefined;
  if (operators.has(ANY_OPERATOR)) return `${config.issuer}/console (anyone who logs in: the simulator's people; CONSOLE_OPERATORS names operators)`;
  return `${config.issuer}/console (${operators.size} operator${operators.size === 1 ? '' : 's'})`;
}

function banner(broker: Broker): string {
  const { config } = broker;
  const consoleAt = consoleLine(config);
  const upstreams = [
    ...config.apps.map((app) => `${app.id}: ${APP_KINDS[app.kind]}${app.followLogin ? ', follow-to-login' : ''} ${app.appid}${app.via ? ` through platform ${app.via}` : ''}`),
    ...config.wecomApps.map((app) => `${app.id}: WeCom app ${app.corpid}/${app.agentid}`),
  ];
  const platforms = config.platforms.map((platform) => `${platform.id}: ${platform.appid}, pushes to ${config.issuer}/wechat/platform/${platform.id}/auth-events`);
  const lines = [
    '',
    `  WeChat OIDC broker ${BROKER_VERSION} on Node.js ${process.versions.node}`,
    `  URL        ${config.issuer}`,
    `  discovery  ${config.issuer}/.well-known/openid-configuration`,
    `  mode       ${config.mode}`,
    `  storage    protocol state: ${broker.stores.protocol.kind}; accounts: ${broker.stores.accountsKind}`,
    `  upstreams  ${upstreams.join('; ')}`,
    ...(platforms.length > 0 ? [`  platforms  ${platforms.join('; ')}`] : []),
    `  QR mode    ${config.wechat.qrMode}`,
    `  sessions   end ${lifetime(config.sessions.idleS)} unused, ${config.sessions.maxS === undefined ? 'with no maximum' : `${lifetime(config.sessions.maxS)} after the login at most`}`,
    `  metrics    ${!config.metrics.enabled ? 'off' : config.metrics.port !== undefined ? `port ${config.metrics.port} /metrics` : `${config.issuer}/metrics`}${config.metrics.token ? ' (bearer token)' : ''}`,
    ...(consoleAt ? [`  console    ${consoleAt}`] : []),
    `  admin API  ${config.issuer}/admin/openapi.json (OpenAPI 3.1)`,
    ...(broker.simulator ? [`  simulator  ${broker.simulator.url} (plays WeChat and WeCom; dev mode only)`] : []),
    ...(broker.demoUrl ? [`  demo       ${broker.demoUrl}  ← open this to try a login`] : []),
    ...config.warnings.map((warning) => `  warning    ${warning}`),
    '',
  ];
  return lines.join('\n');
}

/**
 * A mistake the operator can fix, as one line naming the variable, and exit code 1: a
 * configuration mistake (in the variables, or in a file such as CLIENTS_FILE when the
 * provider checks it) or a port that cannot be had. Anything else is a bug: thrown.
 */
function exitOn(error: unknown): never {
  if (error instanceof ConfigError) process.stderr.write(`Configuration error: ${error.message}\n`);
  else if (error instanceof ListenError) process.stderr.write(`Cannot start: ${error.message}\n`);
  else throw error;
  process.exit(1);
}

/** The broker built from the environment (in dev mode the simulator, listening already). */
async function build(): Promise<Broker> {
  try {
    return await createBroker(await loadConfig(), {
      fatal(message) {
        process.stderr.write(`Storage error: ${message}\n`);
        process.exit(1);
      },
    });
  } catch (error) {
    exitOn(error);
  }
}

/** The public port, and METRICS_PORT when set; what cannot listen stops the broker. */
async function serve(broker: Broker): Promise<{ server: Server; metricsServer: Server | undefined }> {
  const { config } = broker;
  const server = createServer(broker.handle);
  try {
    await listen(server, config.port, config.host, 'PORT');
    const metricsServer = config.metrics.enabled && config.metrics.port !== undefined
      ? await serveMetrics(broker.metrics, config.metrics.token, config.host, config.metrics.port) : undefined;
    return { server, metricsServer };
  } catch (error) {
    server.close();
    await broker.close();
    exitOn(error);
  }
}

/** SIGHUP re-reads CLIENTS_FILE and JWKS_FILE; SIGTERM and SIGINT stop cleanly, once. */
function handleSignals(broker: Broker, server: Server, metricsServer: Server | undefined): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    metricsServer?.close();
    shutdown(server, broker, broker.config.shutdown, signal)
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        broker.log.fatal({ err: error }, 'could not stop cleanly');
        process.exit(1);
      });
  };
  process.on('SIGHUP', () => {
    broker.reload().then(
      (next) => broker.log.info({ clients: next.clients?.map((client) => client.client_id), kids: next.keys.keys.map((key) => key.kid) }, 'reloaded CLIENTS_FILE and JWKS_FILE'),
      (error: unknown) => broker.log.error({ reason: error instanceof ConfigError ? error.message : String(error) }, 'reload refused: the running configuration stays'),
    );
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

const USAGE = `usage: npm start [-- --help | --version]

The broker takes no other arguments: it is configured by environment variables, each checked
at start (README.md, "Configuration"; .env.example lists them), e.g. PORT=4000 npm start.
With none set it starts in dev mode, with the built-in WeChat simulator.
`;

/** What `npm start -- <one argument>` prints instead of starting, by the argument. */
const ANSWERS: Readonly<Record<string, () => string>> = {
  '--help': () => USAGE, '-h': () => USAGE, '--version': () => `${BROKER_VERSION}\n`, '-v': () => `${BROKER_VERSION}\n`,
};

/**
 * `--help` prints the usage and `--version` the version; any other argument is refused (exit
 * code 2), so that `npm start -- --port 4000` does not start a broker on another port than
 * the one asked for.
 */
function checkArguments(argv: readonly string[]): void {
  if (argv.length === 0) return;
  const answer = argv.length === 1 && Object.hasOwn(ANSWERS, argv[0]!) ? ANSWERS[argv[0]!] : undefined;
  if (answer) {
    process.stdout.write(answer());
    process.exit(0);
  }
  process.stderr.write(`npm start takes no arguments but --help and --version (given: ${argv.join(' ')}).\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  checkArguments(process.argv.slice(2));
  const broker = await build();
  const { server, metricsServer } = await serve(broker);
  const { config } = broker;
  process.stdout.write(`${banner(broker)}\n`);
  broker.log.info({ version: BROKER_VERSION, issuer: config.issuer, mode: config.mode, storage: { protocol: broker.stores.protocol.kind, accounts: broker.stores.accountsKind } }, 'broker started');
  handleSignals(broker, server, metricsServer);
  if (config.mode === 'production') void doctorSummary(broker);
}

/**
 * In production, the doctor's checks once at start, after the banner (they call WeChat: the
 * start does not wait for them), summarized in one more banner line and one log line.
 */
async function doctorSummary(broker: Broker): Promise<void> {
  try {
    const findings = await broker.diagnose();
    const failed = findings.filter((finding) => finding.verdict === 'fail');
    const counts = { ok: findings.filter((finding) => finding.verdict === 'ok').length, failed: failed.length, unknown: findings.filter((finding) => finding.verdict === 'unknown').length };
    const named = failed.map((finding) => `${finding.check} ${finding.subject}`);
    process.stdout.write(`  doctor     ${counts.ok} ✓, ${counts.failed} ✗, ${counts.unknown} ?${named.length ? ` (✗ ${named.join(', ')}: npm run doctor for the fixes)` : ''}\n`);
    broker.log[failed.length ? 'warn' : 'info']({ doctor: counts, failed: named }, 'startup checks (npm run doctor)');
  } catch (error) {
    broker.log.warn({ reason: (error as Error).message }, 'startup checks could not run');
  }
}

await main();
