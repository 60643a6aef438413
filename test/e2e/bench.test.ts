// `npm run bench` as a developer runs it, quick (one round of a second): its logins follow
// the broker's pages through the simulated WeChat and submit the consent form as a person
// would, so a change to those pages that the bench can no longer follow shows here, not the
// next time somebody measures. It asserts what the bench reports, never a time.

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHILD_ENV, runToEnd } from '../helpers/process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The bench to its end, in a process group of its own: killed with every server it started if this file's tests end first. */
async function bench(args: readonly string[]): Promise<{ readonly code: number | null; readonly output: string }> {
  const { status: code, output } = await runToEnd(['--experimental-strip-types', 'scripts/bench.ts', ...args], { cwd: ROOT, env: CHILD_ENV });
  return { code, output };
}

const worktrees = () => execFileSync('git', ['worktree', 'list', '--porcelain'], { cwd: ROOT, encoding: 'utf8' });

test.serial('npm run bench -- --quick: the broker against bare oidc-provider, every login complete, one table, a login request by request; --capacity: what each holds at the p99 target', async (t) => {
  const { code, output } = await bench(['--quick', '--only', '16 people', '--capacity']);
  // A login that fails stops the bench with its error: exit 0 is every login through.
  t.is(code, 0, output);
  t.regex(output, /\| figure \| broker \| bare oidc-provider \| CPU per operation, broker \/ bare \| bare ÷ broker, CPU per operation \|/);
  // Both on Node's flags as npm start gives them (the young generation's size among them: garbage collected alike), read off the running processes.
  const flags = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ').filter((word) => word.startsWith('--')).join(' ');
  t.regex(flags, /--max-semi-space-size=16/);
  // The old space bounded too (README, "Speed"): at most twice what was in use before the next full collection.
  t.regex(flags, /--heap-growing-percent=100/);
  t.true(output.includes(`Node's flags, as each server runs: broker ${flags}; bare ${flags}\n`), output);
  t.regex(output, /\| complete logins \(16 people\) \| \d+\/s, p99 \d+ ms \| \d+\/s \| [\d.]+ \/ [\d.]+ ms \| [\d.]+ \|/);
  t.regex(output, /\| complete logins at half the peak rate \(\d+\/s; bare \d+\/s\) \|/);
  t.regex(output, /\| peak RSS after the login rounds \| \d+ MiB \| \d+ MiB \| \| [\d.]+× \|/);
  t.regex(output, /\| RSS before the first request \| \d+ MiB \| \d+ MiB \| \| [\d.]+× \|/);
  t.regex(output, /- complete logins \(16 people\): [\d.]+ \/ [\d.]+ requests/);
  // Where a login's CPU goes, request by request: the broker's WeChat callback and consent, which the bare provider has not; the token request on both.
  t.regex(output, /\| request \| broker \| bare oidc-provider \|/);
  t.regex(output, /\| GET \/interaction\/:id\/wechat \| 1\.0 × [\d.]+ ms \(-?[\d.]+ off the main thread\) \|  \|/);
  t.regex(output, /\| POST \/interaction\/:id\/consent \| 1\.0 × [\d.]+ ms \(-?[\d.]+ off the main thread\) \|  \|/);
  t.regex(output, /\| GET \/interaction\/:id \| 2\.0 × [\d.]+ ms \(-?[\d.]+ off the main thread\) \| 1\.0 × [\d.]+ ms \(-?[\d.]+ off the main thread\) \|/);
  t.regex(output, /\| POST \/token \| 1\.0 × [\d.]+ ms \(-?[\d.]+ off the main thread\) \| 1\.0 × [\d.]+ ms \(-?[\d.]+ off the main thread\) \|/);
  t.regex(output, /\| between the answers \| -?[\d.]+ ms \(-?[\d.]+ off the main thread\) \| -?[\d.]+ ms \(-?[\d.]+ off the main thread\) \|\n\| a login \| [\d.]+ ms \([\d.]+ off the main thread\) \| [\d.]+ ms \([\d.]+ off the main thread\) \|/);
  // Each server's search: three rates tried (quick), each with its p99, and what held.
  const tried = '\\d+/s: (?:\\d+ ms|—)';
  for (const server of ['bare', 'broker']) {
    t.regex(output, new RegExp(`\\| ${server} \\| \\d+/s \\| (?:\\d+/s(?: or more)?, p99 \\d+ ms|none \\(under \\d+/s\\)) \\| ${tried}, ${tried}, ${tried} \\|`));
  }
});

test.serial('--against REV: the broker against itself at that revision, checked out for the run and removed after; --capacity without the logins it starts from says so', async (t) => {
  const before = worktrees();
  const { code, output } = await bench(['--quick', '--only', 'JWKS', '--against', 'HEAD', '--capacity']);
  t.is(code, 0, output);
  t.regex(output, /--capacity starts from the peak of "complete logins \(16 people\)", which --only left out/);
  t.regex(output, /\| figure \| broker \| the broker at HEAD \| CPU per operation, broker \/ HEAD \| HEAD ÷ broker, CPU per operation \|/);
  t.regex(output, /\| JWKS \| \d+\/s, p99 \d+ ms \| \d+\/s \|/);
  t.is(worktrees(), before, 'no checkout left behind');

  const unknown = await bench(['--quick', '--only', 'JWKS', '--against', 'no-such-revision']);
  t.not(unknown.code, 0);
  t.regex(unknown.output, /--against no-such-revision: no such commit in this repository/);
  t.is(worktrees(), before);
});

test.serial('--redis: both servers on one Redis, and what each operation costs it: commands, the bytes Redis received, its CPU', async (t) => {
  const { code, output } = await bench(['--quick', '--only', 'userinfo', '--redis']);
  t.is(code, 0, output);
  const line = /^- userinfo: ([\d.]+) \/ ([\d.]+) commands, ([\d.]+) \/ ([\d.]+) KB, ([\d.]+) \/ ([\d.]+) ms$/m.exec(output);
  t.truthy(line, output);
  t.regex(output, /^Redis per operation, broker \/ bare: commands \(each script's own commands counted\), KB it received \(the network in\), and its CPU:$/m);
  // Every userinfo request reads its access token from Redis, on either server.
  for (const figure of line!.slice(1)) t.true(Number(figure) > 0, output);
});

test.serial('--profile, --allocations and --heap: each server writes its CPU profile and what it allocated from the first round on, and the summary reads both; the table has each heap\'s figures', async (t) => {
  const { code, output } = await bench(['--quick', '--only', 'userinfo', '--profile', '--allocations', '--heap']);
  t.is(code, 0, output);
  // The probes are in each server's flags, and V8's heap in the table (scripts/bench/heap.ts).
  t.regex(output, /^Node's flags, as each server runs: broker --cpu-prof .* --import scripts\/bench\/allocations\.ts --import scripts\/bench\/heap\.ts --max-semi-space-size=16 .*; bare --cpu-prof .* --import scripts\/bench\/heap\.ts --max-semi-space-size=16 /m);
  t.regex(output, /^\| V8's heap at its largest \(its old space\) \| \d+ MiB \(\d+ MiB\) \| \d+ MiB \(\d+ MiB\) \| \| [\d.]+× \|$/m);
  t.regex(output, /^\| V8's heap in use after the latest full collection \| (?:\d+ MiB|none yet) \| (?:\d+ MiB|none yet) \| \| (?:[\d.]+×)? \|$/m);
  t.regex(output, /^\| full collections; the longest collection on the main thread \| \d+; \d+ ms \| \d+; \d+ ms \| \| {2}\|$/m);
  const files = [...output.matchAll(/profile-summary\.ts (\S+\.(?:cpuprofile|heapprofile))$/gm)].map((match) => match[1]!);
  t.deepEqual(files.map((file) => file.replace(/^.*\//, '')), ['baseline.cpuprofile', 'broker.cpuprofile', 'baseline.heapprofile', 'broker.heapprofile']);
  try {
    const summary = (file: string) => execFileSync(process.execPath, ['--experimental-strip-types', 'scripts/bench/profile-summary.ts', file, '50'], { cwd: ROOT, encoding: 'utf8' });
    const cpu = summary(files[1]!);
    t.regex(cpu, /^\d+ ms sampled\n/);
    t.regex(cpu, /by function \(self time\)\n.* %  \S+ oidc-provider:\d+/s);
    const allocated = summary(files[3]!);
    t.regex(allocated, /^[\d.]+ MiB allocated \(sampled, collected objects included\)\n/);
    t.regex(allocated, /MiB +[\d.]+ %  src\/ops\/request-log\.ts$/m, 'the broker\'s own steps, by file: its request line');
    t.notRegex(summary(files[2]!), /src\/ops\//, 'the bare provider runs none of them');
  } finally {
    for (const dir of new Set(files.map((file) => dirname(file)))) rmSync(dir, { recursive: true, force: true });
  }
});
