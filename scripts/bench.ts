// npm run bench [-- --quick] [-- --redis [--scale]] [-- --only FIGURE] [-- --profile] [-- --allocations] [-- --heap] [-- --soak] [-- --capacity] [-- --against REV] [-- --traces [--traces-ratio R]] [-- --rounds N --seconds N]: the broker against bare oidc-provider on this
// machine, figure by figure, in alternating rounds (bare, broker, then broker, bare, …), medians of
// each: operations a second, the server's CPU per operation (read from /proc, so the load
// generator on the same machine is not counted), p99 latency, and the ratio that matters,
// bare CPU per operation ÷ the broker's (1.0: the broker costs nothing more). Both servers
// get the same clients, signing keys, storage (memory, or one Redis with --redis) and
// refresh-token rotation; the broker's logins go through the simulated WeChat inside
// WeChat (a separate process's worth of work the broker's CPU does not include), the bare
// provider's through a minimal interaction that logs the one account in at once.
// Then complete logins at half each server's peak rate, paced (an open load), for the p99 a
// person meets; and where each login's CPU goes: under that load, requests per login and CPU
// per request; one login at a time, request by request (scripts/bench/by-request.ts).
// --soak then runs those paced logins for five minutes on each server, reading its RSS.
// --capacity then finds what each server holds at the p99 target (150 ms for a complete
// login): the highest paced rate whose p99 stays within it, by bisection between nothing and
// the server's peak, each rate judged by the median p99 of alternating rounds
// (scripts/bench/capacity.ts).
// --scale (with --redis) compares complete logins on one broker process and on two (and one
// beside a process that only spins), with how busy the whole machine was (/proc/stat);
// --log-level sets the broker's (info by default, as in production: a line per request).
// --only runs the figures whose name contains FIGURE; --profile has both servers write a
// V8 CPU profile (node --cpu-prof) and prints where, with a summary of each
// (scripts/bench/profile-summary.ts); --allocations has both write what they allocate from the
// first round on (scripts/bench/allocations.ts), summarized the same way; --heap has both
// report what V8's heap did (scripts/bench/heap.ts): its largest size, what is live after a
// full collection, and the longest collection. --against REF measures a change instead: the
// baseline is the broker itself at git revision REF (checked out beside this one, with this
// checkout's node_modules), so the ratio is what the change did, in the same run on the same
// machine; --traces has the measured broker (not the baseline) send OpenTelemetry traces, to
// a collector in this process that takes and drops them (with --against HEAD: what traces
// cost; --traces-ratio R traces that share of requests, TRACES_SAMPLE_RATIO); --rounds and --seconds set the rounds (more of them, shorter, for a small
// difference on a noisy machine). A tool, not a test: it asserts nothing.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { generateSigningKeys } from '../src/config/keys.ts';
import { USER_AGENTS } from '../test/helpers/browser.ts';
import { allowConsent, callbackOf, cookieJar, deliverCallbackToPage, follow } from '../test/helpers/fetch-login.ts';
import { freePort } from '../test/helpers/ports.ts';
import { CHILD_ENV, startProcess, stopProcess } from '../test/helpers/process.ts';
import { startRedis, type RedisServer } from '../test/helpers/redis.ts';
import { issueCode, simApp, startTestSimulator, wechatEnv } from '../test/helpers/simulator.ts';
import { tempDir } from '../test/helpers/temp.ts';
import { byRequest, byRequestTable } from './bench/by-request.ts';
import { Bisection } from './bench/capacity.ts';
import type { HeapFigures } from './bench/heap.ts';
import { countRequests, median, pacedRound, round, nodeFlags, rssMiB, type Round, type StorageCounts } from './bench/load.ts';

/** The options, or (--help, or an option it does not have) this file's opening comment, which describes them. */
function options() {
  try {
    const parsed = parseArgs({ options: {
      help: { type: 'boolean', short: 'h', default: false },
      quick: { type: 'boolean', default: false }, redis: { type: 'boolean', default: false }, only: { type: 'string' }, profile: { type: 'boolean', default: false }, allocations: { type: 'boolean', default: false },
      heap: { type: 'boolean', default: false }, soak: { type: 'boolean', default: false }, capacity: { type: 'boolean', default: false }, scale: { type: 'boolean', default: false }, 'log-level': { type: 'string', default: 'info' },
      against: { type: 'string' }, rounds: { type: 'string' }, seconds: { type: 'string' }, traces: { type: 'boolean', default: false }, 'traces-ratio': { type: 'string' },
    } });
    if (!parsed.values.help) return parsed.values;
    process.stdout.write(`${openingComment()}\n`);
    process.exit();
  } catch (error) {
    return refuse((error as Error).message);
  }
}
/** A command line the bench cannot run: one line, exit code 2, as the broker's CLIs (src/cli/run.ts). */
function refuse(message: string): never {
  process.stderr.write(`bench: ${message}; see npm run bench -- --help\n`);
  process.exit(2);
}
/** The comment this file opens with, without its `//`: the usage line, then what each option does. */
const openingComment = () => readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n\n')[0]!.replace(/^\/\/ ?/gm, '');
const values = options();
/** A count given as an option: a whole number from 1, or the default. */
function count(option: 'rounds' | 'seconds', fallback: number): number {
  const given = values[option];
  if (given === undefined) return fallback;
  if (!/^[1-9]\d{0,3}$/.test(given)) refuse(`--${option} takes a whole number from 1 to 9999, not ${JSON.stringify(given)}`);
  return Number(given);
}
/** Where the servers write their CPU profiles (--profile), allocation profiles (--allocations) and heap figures (--heap). */
const PROFILES = values.profile || values.allocations || values.heap ? mkdtempSync(join(tmpdir(), 'bench-profiles-')) : undefined;
const ALLOCATIONS = fileURLToPath(new URL('bench/allocations.ts', import.meta.url));
const HEAP = fileURLToPath(new URL('bench/heap.ts', import.meta.url));
/** Node's flags for a server: a CPU profile (--profile), the allocation sampler (--allocations), the heap's figures (--heap). */
const profiling = (name: string) => [
  ...(PROFILES && values.profile ? ['--cpu-prof', '--cpu-prof-dir', PROFILES, '--cpu-prof-name', `${name}.cpuprofile`] : []),
  ...(PROFILES && values.allocations ? ['--import', ALLOCATIONS] : []),
  ...(PROFILES && values.heap ? ['--import', HEAP] : []),
];
/** Where a server writes what it allocated (--allocations) and its heap's figures (--heap). */
const probing = (name: string): Record<string, string> => ({
  ...(PROFILES && values.allocations ? { BENCH_ALLOCATIONS_FILE: join(PROFILES, `${name}.heapprofile`) } : {}),
  ...(PROFILES && values.heap ? { BENCH_HEAP_FILE: join(PROFILES, `${name}.heap.json`) } : {}),
});
/** Node's flags for the broker in the checkout at `dir`, as its `npm start` (and its Dockerfile) start it. */
const startFlags = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ').filter((word) => word.startsWith('--'));
const ROUNDS = count('rounds', values.quick ? 1 : 3);
const SECONDS = count('seconds', values.quick ? 1 : 5);
/** What the broker is measured against: bare oidc-provider, or (--against) the broker at another revision. */
const BASELINE = values.against === undefined ? { label: 'bare oidc-provider', short: 'bare' } : { label: `the broker at ${values.against}`, short: values.against };
const WORKERS = 16;
/** The soak's length on each server (issue 27: five minutes). */
const SOAK_S = values.quick ? 60 + 20 : 300;
/** Issue 27's target for a complete login, and how many rates each server's --capacity search tries. */
const TARGET_P99_MS = 150;
const CAPACITY_STEPS = values.quick ? 3 : 6;
/** How many logins, one at a time, show where a login's CPU goes (loginsByRequest). */
const BY_REQUEST_LOGINS = values.quick ? 5 : 100;
const LOGINS = 'complete logins (16 people)';
const CLIENT = { id: 'bench', secret: 'bench-secret-0123456789abcdef0123456789' };
const REDIRECT = 'http://127.0.0.1:9/cb';
const BASIC = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;
/** Every worker its own person (the simulator makes `person-<n>` on demand); one person for the hot-account figure. */
const person = (index: number) => `person-${index + 1}`;

interface Server {
  readonly name: 'broker' | 'baseline';
  readonly issuer: string;
  readonly pid: number;
  /** One whole login, to the token response. */
  /** The person by index (the broker: a simulated WeChat user; the bare provider has one account). */
  login(index: number): Promise<Tokens>;
  stop(): Promise<void>;
}

interface Tokens { access_token: string; refresh_token: string }

const form = (body: Record<string, string>) => ({ method: 'POST', headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });

async function redeem(issuer: string, landed: string): Promise<Tokens> {
  const code = new URL(landed).searchParams.get('code');
  if (!code) throw new Error(`the login did not end with a code: ${landed.slice(0, 200)}`);
  const response = await fetch(`${issuer}/token`, form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }));
  if (!response.ok) throw new Error(`token: ${response.status} ${await response.text()}`);
  return response.json() as Promise<Tokens>;
}

const authorizeUrl = (issuer: string) => `${issuer}/auth?${new URLSearchParams({
  client_id: CLIENT.id, response_type: 'code', scope: 'openid offline_access', redirect_uri: REDIRECT, state: 'benchstate', nonce: 'benchnonce', prompt: 'consent',
})}`;

async function files() {
  const dir = tempDir('bench');
  const clients = join(dir, 'clients.json');
  const jwks = join(dir, 'jwks.json');
  writeFileSync(clients, JSON.stringify([{
    client_id: CLIENT.id, client_secret: CLIENT.secret, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid offline_access profile', first_party: true,
  }]));
  writeFileSync(jwks, JSON.stringify(await generateSigningKeys()));
  return { CLIENTS_FILE: clients, JWKS_FILE: jwks };
}

async function startBare(shared: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  // Node's flags as the broker gets them (npm start's: --max-semi-space-size among them), so that both collect garbage alike.
  const bare = await startProcess(process.execPath, [...profiling('baseline'), ...startFlags(process.cwd()), 'scripts/bench/bare-provider.ts'], {
    cwd: process.cwd(), env: { ...CHILD_ENV, ...shared, ...probing('baseline'), PORT: String(port), ISSUER: issuer }, ready: (out) => out.includes('bare provider started'), what: 'bare oidc-provider', dropOutputWhenReady: true,
  });
  return {
    name: 'baseline', issuer, pid: bare.child.pid!,
    async login() {
      const jar = cookieJar();
      return redeem(issuer, (await follow(authorizeUrl(issuer), jar, { issuer, direct: issuer })).url);
    },
    async stop() { await stopProcess(bare, 'bare oidc-provider'); },
  };
}

/** The broker from the checkout at `dir` (this one, or --against's), in the slot `name`. */
async function startTheBroker(shared: Record<string, string>, dir = process.cwd(), name: Server['name'] = 'broker'): Promise<Server> {
  const apps = [simApp('mp'), simApp('open')];
  const simulator = await startTestSimulator(apps);
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  // Its production log level (info: a line per request; --log-level to compare), read and dropped here so that the load generator does not pay for keeping it.
  // Its rate limits counted as in production (where they are on), at the highest limits, which the load generator (one IP, one client) stays under.
  const started = await startProcess(process.execPath, [...profiling(name), ...startFlags(dir), 'src/main.ts'], {
    cwd: dir,
    env: { ...CHILD_ENV, ...shared, ...probing(name), ...wechatEnv(simulator, apps), PORT: String(port), HOST: '127.0.0.1', ISSUER: issuer, LOG_LEVEL: values['log-level'], RATE_LIMIT_PER_IP: '1000000', RATE_LIMIT_PER_CLIENT: '1000000' },
    // The banner's discovery line: printed once it listens, at any log level.
    ready: (out) => out.includes('  discovery  '), what: 'the broker', dropOutputWhenReady: true,
  });
  const broker = { issuer, stop: async () => { await stopProcess(started, 'the broker'); } };
  await fetch(`${simulator.url}/_sim/callback-hosts`, { method: 'POST', body: JSON.stringify({ host: new URL(broker.issuer).host }) });
  const target = { issuer: broker.issuer, direct: broker.issuer };
  return {
    name, issuer: broker.issuer, pid: started.child.pid!,
    async login(index) {
      const user = person(index);
      const jar = cookieJar();
      let at = await follow(authorizeUrl(broker.issuer), jar, target, USER_AGENTS.wechat);
      // WeChat's silent snsapi_base, then (for somebody new) its sheet for snsapi_userinfo, as a phone would.
      while (at.url.startsWith(simulator.url)) {
        const wechat = new URL(at.url);
        const code = await issueCode(simulator.url, wechat.searchParams.get('appid')!, user, wechat.searchParams.get('scope') as 'snsapi_base');
        at = await deliverCallbackToPage(callbackOf(wechat, code), jar, target, USER_AGENTS.wechat);
      }
      // prompt=consent (for offline_access, OIDC Core 11): the consent page, allowed as a person would.
      return redeem(broker.issuer, at.url.startsWith(REDIRECT) ? at.url : await allowConsent(at, jar, target, USER_AGENTS.wechat));
    },
    async stop() { await Promise.all([broker.stop(), simulator.close()]); },
  };
}

/** Each figure: how a worker prepares, and its one operation. */
function figures(server: Server): Record<string, () => Promise<() => Promise<void>>> {
  let worker = 0;
  const ok = async (response: Response) => { if (!response.ok) throw new Error(`${response.url}: ${response.status}`); await response.arrayBuffer(); };
  return {
    'complete logins (16 people)': async () => { const index = worker++; return async () => { await server.login(index); }; },
    // Issue 29's case: every client logs the same person in at once (a shared demo account, a kiosk).
    'complete logins (one person)': async () => async () => { await server.login(0); },
    userinfo: async () => { const { access_token: at } = await server.login(worker++); return async () => ok(await fetch(`${server.issuer}/me`, { headers: { authorization: `Bearer ${at}` } })); },
    introspection: async () => { const { access_token: at } = await server.login(worker++); return async () => ok(await fetch(`${server.issuer}/token/introspection`, form({ token: at }))); },
    'refresh grants (rotating)': async () => {
      let { refresh_token: rt } = await server.login(worker++);
      return async () => {
        const response = await fetch(`${server.issuer}/token`, form({ grant_type: 'refresh_token', refresh_token: rt }));
        if (!response.ok) throw new Error(`refresh: ${response.status} ${await response.text()}`);
        rt = ((await response.json()) as Tokens).refresh_token;
      };
    },
    discovery: async () => async () => ok(await fetch(`${server.issuer}/.well-known/openid-configuration`)),
    JWKS: async () => async () => ok(await fetch(`${server.issuer}/jwks`)),
  };
}

/** A server's peak rate of complete logins: the median of its rounds of LOGINS. */
const peakOf = (results: Map<string, Record<string, Round[]>>, server: Server) => median(results.get(LOGINS)![server.name]!.map((r) => r.perSecond));

/** Complete logins started `rate` times a second for `seconds` (an open load), the 16 people in turn; `sample` as pacedRound's. */
function pacedLogins(server: Server, rate: number, seconds: number, sample?: () => void): Promise<Round> {
  let next = 0;
  return pacedRound(targetOf(server), rate, seconds, async () => { await server.login(next++ % WORKERS); }, sample);
}

/** The logins at half the broker's peak rate (and the bare provider's at half its own): the p99 a person meets when the broker is not saturated. */
async function paced(servers: readonly Server[], results: Map<string, Record<string, Round[]>>, seconds: number): Promise<Record<string, Round>> {
  const out: Record<string, Round> = {};
  if (!results.has(LOGINS)) return out;
  for (const server of servers) out[server.name] = await pacedLogins(server, peakOf(results, server) / 2, seconds);
  return out;
}

/** --soak: logins at half the peak rate for SOAK_S on each server in turn, its RSS read every 10 s. */
async function soak(servers: readonly Server[], results: Map<string, Record<string, Round[]>>): Promise<string> {
  const lines: string[] = [];
  for (const server of servers) {
    const rate = peakOf(results, server) / 2;
    const readings: number[] = [];
    await pacedLogins(server, rate, SOAK_S, () => readings.push(rssMiB(server.pid)));
    // The first minute is the warm-up (the JIT, the stores filling up to their steady churn).
    const steady = readings.slice(6);
    const [first, last] = [steady[0] ?? NaN, steady.at(-1) ?? NaN];
    lines.push(`| ${server.name === 'broker' ? 'broker' : BASELINE.short} | ${rate.toFixed(0)}/s | ${first.toFixed(0)} MiB | ${Math.min(...steady).toFixed(0)} – ${Math.max(...steady).toFixed(0)} MiB | ${last.toFixed(0)} MiB | ${(100 * (last - first) / first).toFixed(1)} % |`);
  }
  return [`soak: ${SOAK_S} s of logins at half the peak rate each; RSS read every 10 s, after the first minute`, '',
    '| server | logins | RSS after 1 min | range | at the end | change |', '|---|---|---|---|---|---|', ...lines].join('\n');
}

/**
 * --capacity: each server's complete logins paced at rates chosen by bisection between
 * nothing and its peak: at each rate ROUNDS paced rounds of SECONDS, the servers
 * alternating, judged by their median p99 (one round's p99 is at the mercy of one stall of
 * a shared machine); the highest rate whose p99 stayed within TARGET_P99_MS, to its peak ÷
 * 2^CAPACITY_STEPS.
 */
async function capacity(servers: readonly Server[], results: Map<string, Record<string, Round[]>>): Promise<string> {
  const searches = servers.map((server) => ({ server, search: new Bisection(peakOf(results, server), TARGET_P99_MS, CAPACITY_STEPS), p99s: [] as number[] }));
  for (let step = 0; step < CAPACITY_STEPS; step += 1) {
    for (let index = 0; index < ROUNDS; index += 1) {
      for (const { server, search, p99s } of (step * ROUNDS + index) % 2 ? [...searches].reverse() : searches) p99s.push((await pacedLogins(server, search.next()!, SECONDS)).p99Ms);
    }
    for (const { search, p99s } of searches) search.record(search.next()!, median(p99s.splice(0)));
  }
  return [`capacity: complete logins paced (as people arrive), the highest rate whose p99 stayed within ${TARGET_P99_MS} ms; ${CAPACITY_STEPS} steps of bisection between 0 and each server's peak, each rate ${ROUNDS} alternating round(s) of ${SECONDS} s, their median p99`, '',
    '| server | peak (16 clients) | holds | rates tried: p99 |', '|---|---|---|---|',
    ...searches.map(({ server, search }) => `| ${server.name === 'broker' ? 'broker' : BASELINE.short} | ${peakOf(results, server).toFixed(0)}/s | ${held(search)} | ${search.steps.map((s) => `${s.rate.toFixed(0)}/s: ${Number.isNaN(s.p99Ms) ? '—' : `${s.p99Ms.toFixed(0)} ms`}`).join(', ')} |`),
  ].join('\n');
}

/** What a capacity search found: the rate held (and its p99), or that none was. */
function held(search: Bisection): string {
  if (search.holds === undefined) return `none (under ${search.steps.at(-1)!.rate.toFixed(0)}/s)`;
  // Every rate held: the search stops short of the peak that bounds it.
  const more = search.steps.every((step) => step.held) ? ' or more' : '';
  return `${search.holds.toFixed(0)}/s${more}, p99 ${search.p99AtHolds!.toFixed(0)} ms`;
}

/** The server under load; with `counter` (on Redis), counting the commands its operations send. */
const targetOf = (server: Server, counter?: Redis) => ({ pids: [server.pid], origins: [server.issuer], ...(counter ? { storageCounts: redisCounts(counter) } : {}) });

/**
 * --scale (on Redis): complete logins on one broker, then on two sharing the Redis (each
 * client keeps to one instance, as a load balancer with sticky sessions would send it), in
 * alternating rounds: how throughput grows with a second process on the same machine.
 * Also one process beside a process that only spins: what any neighbour busy on the other
 * cores does to its CPU per login, to tell that apart from what a second broker costs.
 */
async function scale(one: Server, shared: Record<string, string>): Promise<string> {
  const other = await startTheBroker(shared);
  try {
    const both = [one, other];
    const pair = { pids: both.map((server) => server.pid), origins: both.map((server) => server.issuer) };
    const rounds: Record<string, Round[]> = { one: [], busy: [], two: [] };
    for (let index = 0; index < ROUNDS; index += 1) {
      rounds.one!.push(await round(targetOf(one), WORKERS, SECONDS, figures(one)[LOGINS]!));
      rounds.busy!.push(await besideABusyProcess(() => round(targetOf(one), WORKERS, SECONDS, figures(one)[LOGINS]!)));
      let worker = 0;
      rounds.two!.push(await round(pair, WORKERS, SECONDS, async () => { const person = worker++; return async () => { await both[person % 2]!.login(person); }; }));
    }
    const of = (name: string, pick: (r: Round) => number) => median(rounds[name]!.map(pick));
    const label = { one: 'one', busy: 'one, beside a process that only spins', two: 'two' } as const;
    return [`scale: complete logins (16 people) on Redis, one broker process, then two sharing it; ${ROUNDS} alternating round(s); medians`, '',
      `| processes | logins | p99 | CPU per login (all broker processes) | the machine busy (${cpus().length} cores, every process) |`, '|---|---|---|---|---|',
      ...(['one', 'busy', 'two'] as const).map((name) => `| ${label[name]} | ${of(name, (r) => r.perSecond).toFixed(0)}/s | ${of(name, (r) => r.p99Ms).toFixed(0)} ms | ${of(name, (r) => r.cpuPerOp).toFixed(2)} ms | ${(100 * of(name, (r) => r.machineBusy)).toFixed(0)} % |`),
    ].join('\n');
  } finally {
    await other.stop();
  }
}

/** Runs `measure` while a process spins on the machine (`for (;;)`): what any busy neighbour does to a broker's CPU per login. */
async function besideABusyProcess<T>(measure: () => Promise<T>): Promise<T> {
  const busy = await startProcess(process.execPath, ['-e', 'console.log("spinning"); for (;;);'], {
    cwd: process.cwd(), env: CHILD_ENV, ready: (out) => out.includes('spinning'), what: 'a spinning process', dropOutputWhenReady: true,
  });
  try {
    return await measure();
  } finally {
    busy.child.kill();
    await busy.exited;
  }
}

/**
 * --against: the broker's tree at `ref`, checked out beside this one (a git worktree) with
 * this checkout's node_modules, so that only the code differs; `remove` takes it away.
 */
function checkoutAt(ref: string): { dir: string; remove(): void } {
  let commit: string;
  try {
    commit = execFileSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`--against ${ref}: no such commit in this repository`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-against-'));
  execFileSync('git', ['worktree', 'add', '--detach', '--quiet', dir, commit]);
  symlinkSync(join(process.cwd(), 'node_modules'), join(dir, 'node_modules'));
  let removed = false;
  const remove = () => {
    if (!removed) execFileSync('git', ['worktree', 'remove', '--force', dir]);
    removed = true;
  };
  // Interrupted (Ctrl-C, SIGTERM), the run exits through 'exit': the checkout goes with it.
  process.once('exit', remove);
  return { dir, remove };
}

/** --traces: an OTLP/HTTP receiver that takes every export and keeps nothing (its work is this process's, not the broker's). */
async function startCollector(): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => { req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')); });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, close: () => { server.closeAllConnections(); server.close(); } };
}

async function main(): Promise<void> {
  // An exit, not death by the signal: the 'exit' handlers stop the servers it started (test/helpers/process.ts) and remove --against's checkout.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.once(signal, () => process.exit(code));
  let redis: RedisServer | undefined;
  let collector: { url: string; close(): void } | undefined;
  let counter: Redis | undefined;
  const servers: Server[] = [];
  countRequests();
  const baseline = values.against === undefined ? undefined : checkoutAt(values.against);
  try {
    redis = values.redis ? await startRedis({ appendonly: false }) : undefined;
    const shared = { ...await files(), ...(redis ? { REDIS_URL: redis.url } : {}) };
    collector = values.traces ? await startCollector() : undefined;
    const traced: Record<string, string> = collector ? { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, TRACES_SAMPLE_RATIO: values['traces-ratio'] ?? '1' } : {};
    servers.push(baseline ? await startTheBroker(shared, baseline.dir, 'baseline') : await startBare(shared), await startTheBroker({ ...shared, ...traced }));
    counter = redis && new Redis(redis.url);
    // What they allocate from here on: the requests', not their start-up's (scripts/bench/allocations.ts).
    if (values.allocations) for (const server of servers) process.kill(server.pid, 'SIGUSR2');
    const results = new Map<string, Record<string, Round[]>>();
    const rss: Record<string, number> = {};
    // What each holds before any request: its code and what it sets up, against what the load adds.
    const idle = Object.fromEntries(servers.map((server) => [server.name, rssMiB(server.pid)]));
    for (const figure of Object.keys(figures(servers[0]!)).filter((name) => name.includes(values.only ?? ''))) {
      const rounds: Record<string, Round[]> = { baseline: [], broker: [] };
      for (let index = 0; index < ROUNDS; index += 1) {
        // Which server goes first alternates too, so that neither always runs in the wake of the other's round.
        for (const server of index % 2 ? [...servers].reverse() : servers) rounds[server.name]!.push(await round(targetOf(server, counter), WORKERS, SECONDS, figures(server)[figure]!));
      }
      results.set(figure, rounds);
      if (figure.startsWith('complete logins')) for (const server of servers) rss[server.name] = Math.max(rss[server.name] ?? 0, rssMiB(server.pid));
    }
    const heap = values.heap ? await heapFigures(servers) : undefined;
    const half = await paced(servers, results, 2 * SECONDS);
    const flags = Object.fromEntries(servers.map((server) => [server.name, nodeFlags(server.pid)]));
    process.stdout.write(`${report(results, { idle, peak: rss, heap }, half, redis !== undefined, flags)}\n`);
    if (results.has(LOGINS)) process.stdout.write(`\n${await loginsByRequest(servers)}\n`);
    if (values.soak && results.has(LOGINS)) process.stdout.write(`\n${await soak(servers, results)}\n`);
    if (values.capacity) process.stdout.write(`\n${results.has(LOGINS) ? await capacity(servers, results) : `--capacity starts from the peak of "${LOGINS}", which --only left out`}\n`);
    if (values.scale && redis) process.stdout.write(`\n${await scale(servers[1]!, shared)}\n`);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    collector?.close();
    counter?.disconnect();
    await redis?.stop();
    baseline?.remove();
  }
  const summarize = (kind: string, extension: string) => `${kind} (open in Chrome DevTools, or summarize):\n${['baseline', 'broker'].map((name) => `  node --experimental-strip-types scripts/bench/profile-summary.ts ${join(PROFILES!, `${name}.${extension}`)}`).join('\n')}\n`;
  if (values.profile) process.stdout.write(`\n${summarize('CPU profiles', 'cpuprofile')}`);
  if (values.allocations) process.stdout.write(`\n${summarize('Allocations from the first round on', 'heapprofile')}`);
}

/** Redis's commands so far (each script's own commands counted), the bytes it has received (INFO stats) and its CPU, its threads' user and system time (INFO cpu, in s): what the shared Redis does. */
const redisCounts = (counter: Redis) => async (): Promise<StorageCounts> => {
  const info = await counter.info();
  const count = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return { commands: count('total_commands_processed'), bytesIn: count('total_net_input_bytes'), cpuMs: 1000 * (count('used_cpu_user') + count('used_cpu_sys')) };
};

/** What each operation costs the shared Redis: the capacity to plan it for, and a cost of its own beside the CPU. */
function redisLines(results: Map<string, Record<string, Round[]>>): string[] {
  const of = (rounds: Round[], pick: (counts: StorageCounts) => number, digits: number) => median(rounds.map((r) => (r.storagePerOp ? pick(r.storagePerOp) : NaN))).toFixed(digits);
  const line = (rounds: Record<string, Round[]>, pick: (counts: StorageCounts) => number, digits: number) => `${of(rounds.broker!, pick, digits)} / ${of(rounds.baseline!, pick, digits)}`;
  return ['', `Redis per operation, broker / ${BASELINE.short}: commands (each script's own commands counted), KB it received (the network in), and its CPU:`, '',
    ...[...results].map(([figure, rounds]) => `- ${figure}: ${line(rounds, (c) => c.commands, 1)} commands, ${line(rounds, (c) => c.bytesIn / 1024, 1)} KB, ${line(rounds, (c) => c.cpuMs, 3)} ms`)];
}

/** Where a complete login's CPU goes on each server, request by request (scripts/bench/by-request.ts): the 16 people's logins again, one at a time. */
async function loginsByRequest(servers: readonly Server[]): Promise<string> {
  const order = [...servers].reverse();
  const people = order.map(() => 0);
  const measured = await byRequest(order.map((server, at) => ({ pid: server.pid, origin: server.issuer, login: () => server.login(people[at]!++ % WORKERS) })), BY_REQUEST_LOGINS);
  return [`where a complete login's CPU goes, one login at a time (${BY_REQUEST_LOGINS} on each server, in turn): how many of each request a login sends, and the server's CPU (every thread's) from sending each to its answer`, '',
    byRequestTable(order.map((server, at) => ({ label: server.name === 'broker' ? 'broker' : BASELINE.label, measured: measured[at]! })))].join('\n');
}

/** A complete login, request by request: how many the server answers per login, and its CPU per request. */
function perRequest(rounds: Record<string, Round[]>): string {
  const of = (name: string, pick: (r: Round) => number) => median(rounds[name]!.map(pick));
  const cpu = (name: string) => of(name, (r) => r.cpuPerOp) / of(name, (r) => r.requestsPerOp);
  return `${of('broker', (r) => r.requestsPerOp).toFixed(1)} / ${of('baseline', (r) => r.requestsPerOp).toFixed(1)} requests; ${cpu('broker').toFixed(2)} / ${cpu('baseline').toFixed(2)} ms a request, ${(cpu('baseline') / cpu('broker')).toFixed(2)}`;
}

/**
 * --heap: each server's heap figures over the rounds so far (scripts/bench/heap.ts), read a
 * little over a second after the last round, as each probe writes what changed once a second.
 */
async function heapFigures(servers: readonly Server[]): Promise<Record<string, HeapFigures>> {
  const read = (server: Server) => {
    try {
      return JSON.parse(readFileSync(join(PROFILES!, `${server.name}.heap.json`), 'utf8')) as HeapFigures;
    } catch {
      return undefined;
    }
  };
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const figures = servers.map((server) => [server.name, read(server)] as const);
  const missing = figures.find(([, found]) => found === undefined);
  if (missing) throw new Error(`--heap: ${missing[0]} wrote no heap figures`);
  return Object.fromEntries(figures) as Record<string, HeapFigures>;
}

/** --heap's rows: where the RSS between full collections goes, and whether the collector could be a p99's cause. */
function heapRows({ broker, baseline }: Record<string, HeapFigures>): string[] {
  if (!broker || !baseline) return [];
  const row = (label: string, pick: (figures: HeapFigures) => string, ratio = '') => `| ${label} | ${pick(broker)} | ${pick(baseline)} | | ${ratio} |`;
  return [
    row('V8\'s heap at its largest (its old space)', (f) => `${f.largestMiB.toFixed(0)} MiB (${f.largestOldMiB.toFixed(0)} MiB)`, `${(broker.largestMiB / baseline.largestMiB).toFixed(2)}×`),
    row('V8\'s heap in use after the latest full collection', (f) => (f.liveMiB === null ? 'none yet' : `${f.liveMiB.toFixed(0)} MiB`), broker.liveMiB && baseline.liveMiB ? `${(broker.liveMiB / baseline.liveMiB).toFixed(2)}×` : ''),
    row('full collections; the longest collection on the main thread', (f) => `${f.fullCollections}; ${f.longestPauseMs.toFixed(0)} ms`),
  ];
}

function report(results: Map<string, Record<string, Round[]>>, memory: { idle: Record<string, number>; peak: Record<string, number>; heap: Record<string, HeapFigures> | undefined }, half: Record<string, Round>, onRedis: boolean, flags: Record<string, string>): string {
  const { idle, peak: rss, heap } = memory;
  const rows = [...results].map(([figure, rounds]) => {
    const of = (name: string, pick: (r: Round) => number) => median(rounds[name]!.map(pick));
    const ratio = of('baseline', (r) => r.cpuPerOp) / of('broker', (r) => r.cpuPerOp);
    return `| ${figure} | ${of('broker', (r) => r.perSecond).toFixed(0)}/s, p99 ${of('broker', (r) => r.p99Ms).toFixed(0)} ms | ${of('baseline', (r) => r.perSecond).toFixed(0)}/s | ${of('broker', (r) => r.cpuPerOp).toFixed(2)} / ${of('baseline', (r) => r.cpuPerOp).toFixed(2)} ms | ${ratio.toFixed(2)} |`;
  });
  const logins = [...results].filter(([figure]) => figure.startsWith('complete logins'));
  return [
    `storage: ${onRedis ? 'Redis' : 'memory'}; ${WORKERS} concurrent clients; ${ROUNDS} alternating round(s) of ${SECONDS} s per figure and server; medians`,
    `Node's flags, as each server runs: broker ${flags.broker}; ${BASELINE.short} ${flags.baseline}`,
    '',
    `| figure | broker | ${BASELINE.label} | CPU per operation, broker / ${BASELINE.short} | ${BASELINE.short} ÷ broker, CPU per operation |`,
    '|---|---|---|---|---|',
    ...rows,
    ...(half.broker && half.baseline ? [`| complete logins at half the peak rate (${half.broker.perSecond.toFixed(0)}/s; ${BASELINE.short} ${half.baseline.perSecond.toFixed(0)}/s) | p99 ${half.broker.p99Ms.toFixed(0)} ms | p99 ${half.baseline.p99Ms.toFixed(0)} ms | | |`] : []),
    ...(rss.broker && rss.baseline ? [`| peak RSS after the login rounds | ${rss.broker.toFixed(0)} MiB | ${rss.baseline.toFixed(0)} MiB | | ${(rss.broker / rss.baseline).toFixed(2)}× |`] : []),
    `| RSS before the first request | ${idle.broker!.toFixed(0)} MiB | ${idle.baseline!.toFixed(0)} MiB | | ${(idle.broker! / idle.baseline!).toFixed(2)}× |`,
    ...(heap ? heapRows(heap) : []),
    ...(logins.length ? ['', `A login request by request (broker / ${BASELINE.short}; the last figure is ${BASELINE.short} ÷ broker, CPU per request):`, '',
      ...logins.map(([figure, rounds]) => `- ${figure}: ${perRequest(rounds)}`)] : []),
    ...(onRedis ? redisLines(results) : []),
  ].join('\n');
}

await main();
