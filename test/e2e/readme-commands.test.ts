// The README's operator commands, run as written: every `npm run keys`, `npm run clients`
// and `npm run accounts` command it shows (in a shell block or inline), through npm, each
// family in the README's order (the three families side by side: none touches another's
// files). Only what the README leaves to the reader is filled in: the file names
// point into a scratch directory, the kids NEW and OLD are the ones `list` shows, and
// <sub>, U, A, O are identifiers of nobody in a real Redis (the commands must be
// understood, and answer "no such account", not a usage error).

import test from 'ava';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis } from '../helpers/redis.ts';
import { tempDir } from '../helpers/temp.ts';
import { CHILD_ENV } from '../helpers/process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const README_ZH = readFileSync(join(ROOT, 'README.zh-CN.md'), 'utf8');

/** Every operator command a README shows, in order: shell-block lines and inline code. */
function readmeCommands(readme = README): string[] {
  const found: Array<{ at: number; command: string }> = [];
  for (const block of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    let at = block.index;
    for (const line of (block[1] ?? '').split('\n')) {
      at += line.length + 1;
      if (/^npm run (keys|clients|accounts) -- /.test(line)) found.push({ at, command: line.trim() });
    }
  }
  for (const inline of readme.matchAll(/`(npm run (?:keys|clients|accounts) -- [^`\n]+)`/g)) found.push({ at: inline.index, command: inline[1] ?? '' });
  // `npm run keys -- …` names the family in a heading: not a command. A command shown twice runs once.
  return [...new Set(found.sort((a, b) => a.at - b.at).map(({ command }) => command).filter((command) => !command.endsWith('…')))];
}

interface Ran { status: number | null; stdout: string; stderr: string }

/** One command through sh, as a reader would type it; never blocks the other families. */
function run(command: string, env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd: ROOT, encoding: 'utf8', env: { ...CHILD_ENV, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** What `clients -- new` must print for `command`: how its client authenticates. */
function newClientShape(command: string): RegExp {
  if (command.includes(' --public')) return /"token_endpoint_auth_method": "none"/;
  if (command.includes(' --jwks-uri')) return /"token_endpoint_auth_method": "private_key_jwt",\s*"jwks_uri": "https:\/\/[^"]+"/;
  return /"client_secret":\s*"[\w-]{43}"/;
}

test('README.zh-CN shows only commands that README.md shows (and so runs below), each family in the same order', (t) => {
  const chinese = readmeCommands(README_ZH);
  const english = readmeCommands();
  t.true(chinese.length >= 7, chinese.join('\n'));
  t.deepEqual(chinese.filter((command) => !english.includes(command)), []);
  for (const family of [' keys -- ', ' clients -- ', ' accounts -- ']) {
    const shown = chinese.filter((command) => command.includes(family));
    t.deepEqual(shown, english.filter((command) => command.includes(family) && shown.includes(command)), family);
  }
});

test('every keys, clients and accounts command of the README runs as written', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const commands = readmeCommands();
  t.true(commands.filter((command) => command.includes(' keys -- ')).length >= 5, commands.join('\n'));
  t.true(commands.some((command) => command.includes(' clients -- new')));
  t.true(commands.some((command) => command.includes(' accounts -- find')));
  const dir = tempDir('broker-readme');
  const jwks = join(dir, 'jwks.json');
  const clients = join(dir, 'clients.json');
  writeFileSync(clients, JSON.stringify([
    { client_id: 'shop', client_secret: 'shop-secret-0123456789abcdef0123456789', redirect_uris: ['https://shop.example.com/cb'] },
    // check validates a pairwise client as the broker with PAIRWISE_SECRET would.
    { client_id: 'partner', client_secret: 'partner-secret-0123456789abcdef0123456789', redirect_uris: ['https://partner.example.net/cb'], subject_type: 'pairwise', scope: 'openid profile' },
    // The API the README's `--resource` command lists, as its `--api` command writes it.
    { client_id: 'orders-api', client_secret: 'orders-secret-0123456789abcdef0123456789', grant_types: [], response_types: [], redirect_uris: [], resource_server: true, resource: 'https://api.example.com/orders', resource_scopes: { 'orders:read': 'See your orders' } },
  ]));
  // The accounts import's sample, as the README shows it.
  const sample = (/```jsonl\n([\s\S]*?)```/.exec(README)?.[1] ?? '').split('\n').filter(Boolean);
  t.true(sample.length >= 2, 'the README shows a sample import file');
  const members = join(dir, 'members.jsonl');
  const dumped = join(dir, 'accounts.jsonl');
  writeFileSync(members, sample.join('\n'));
  const kids: Record<'OLD' | 'NEW', string> = { OLD: '', NEW: '' };
  /** One family's commands in the README's order (keys depend on each other); the families side by side. */
  const family = async (name: string) => {
    for (const written of commands.filter((command) => command.includes(` ${name} -- `))) {
      const command = written
        .replaceAll('jwks.json', jwks).replaceAll('clients.json', clients).replaceAll('members.jsonl', members).replaceAll('accounts.jsonl', dumped)
        .replace(/--kid (NEW|OLD)\b/, (_whole, which: 'NEW' | 'OLD') => `--kid ${kids[which]}`)
        .replaceAll('<sub>', 'no-such-sub').replace(/--unionid U\b/, '--unionid oNobody').replace(/--appid A\b/, '--appid wx0000000000000001').replace(/--openid O\b/, '--openid oNobody')
        .replace(/--client C --sub=S\b/, '--client partner --sub=no-such-sub');
      const result = await run(command, name === 'accounts' ? { REDIS_URL: redis.url, CLIENTS_FILE: clients, PAIRWISE_SECRET: randomBytes(32).toString('hex') } : {});
      if (written.includes(' accounts -- import')) {
        // The README's own sample file, written into an empty store: every line of it imported.
        t.is(result.status, 0, `${written}\n${result.stdout}\n${result.stderr}`);
        t.like(JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))), { created: sample.length, refused: 0 }, 'after npm\'s own lines');
        continue;
      }
      if (written.includes(' accounts -- dump')) {
        // What the import above wrote, line by line, into the file the README names.
        t.is(result.status, 0, `${written}\n${result.stderr}`);
        t.deepEqual(readFileSync(dumped, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { sub: string }).sub).sort(), sample.map((line) => (JSON.parse(line) as { sub: string }).sub).sort());
        continue;
      }
      if (written.endsWith(' accounts -- suspended')) {
        // A list, and nobody on it yet.
        t.is(result.status, 0, `${written}\n${result.stderr}`);
        t.deepEqual(JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))), { suspended: [] });
        continue;
      }
      if (name === 'accounts') {
        // Understood, and about nobody (memory storage here): "no such account", exit 2, never a usage error.
        t.regex(result.stderr, /accounts: (no such account|the account has no identity)/, `${written}\n${result.stderr}`);
        continue;
      }
      t.is(result.status, 0, `${written}\n${result.stdout}\n${result.stderr}`);
      if (written.includes(' keys -- new')) kids.OLD = /RS256 (\S+?),/.exec(result.stdout)?.[1] ?? '';
      if (written.includes(' keys -- add')) kids.NEW = /added RS256 (\S+):/.exec(result.stdout)?.[1] ?? '';
      if (written.includes(' clients -- new')) t.regex(result.stdout, newClientShape(written));
      if (written.includes(' --dpop')) t.regex(result.stdout, /"dpop_bound_access_tokens": true/);
      if (written.includes(' --api ')) t.regex(result.stdout, /"resource_server": true,\s*"resource": "https:\/\/api\.example\.com\/orders",\s*"resource_scopes": \{\s*"orders:read": "See your orders",\s*"orders:write": \{\s*"zh-CN": "代你下单",\s*"en": "Place orders for you"/);
      if (written.includes(' --backchannel-logout-uri ')) t.regex(result.stdout, /"backchannel_logout_uri": "https:\/\/crm\.example\.com\/logout",\s*"backchannel_logout_session_required": true,\s*"security_events_uri": "https:\/\/crm\.example\.com\/events"/);
      if (written.includes(' --resource ')) t.regex(result.stdout, /"resources": \[\s*"https:\/\/api\.example\.com\/orders"\s*\]/);
      if (written.includes(' --pairwise')) t.regex(result.stdout, /"subject_type": "pairwise",\s*"scope": "openid profile phone email offline_access"/);
    }
  };
  await Promise.all(['keys', 'clients', 'accounts'].map(family));
  t.truthy(kids.OLD);
  t.truthy(kids.NEW);
  // The rotation left the new key signing and the old one gone.
  const listed = (await run(`npm run keys -- list --file ${jwks}`)).stdout;
  t.regex(listed, new RegExp(`${kids.NEW}\\s+RS256\\s+signing`));
  t.notRegex(listed, new RegExp(kids.OLD));
});
