// npm run keys -- <command>: manages the JWKS_FILE of signing keys (HELP below, which --help prints).

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import {
  DEFAULT_ALG, generateSigningKey, generateSigningKeys, keyMadeAt, SIGNING_ALGS, signingKeys, validateJwks, type SigningAlg,
} from '../config/keys.ts';
import { runCli, UsageError } from './run.ts';

const SYNOPSIS = 'usage: npm run keys -- new|add|promote|retire|list --file JWKS_FILE [--kid KID] [--alg RS256|ES256|PS256|EdDSA]';
export const OPTIONS = { file: { type: 'string' }, kid: { type: 'string' }, alg: { type: 'string' } } as const;
export const HELP = `${SYNOPSIS}

  new     --file F            writes a new set: one RS256 and one ES256 key (refuses to overwrite)
  add     --file F [--alg A]  adds a key (RS256 by default; ES256, PS256, EdDSA) at the end: published, not signing yet
  promote --file F --kid K    moves the key first among its algorithm's keys: it signs after a reload
  retire  --file F --kid K    removes a key that no longer signs
  list    --file F            prints each key's kid, algorithm and role

The first key of each algorithm in the file is the one that signs; every key in the file
is published at /jwks, so tokens signed by a retiring key keep verifying. The broker reads
the file again on SIGHUP.`;

function read(file: string): JWK[] {
  if (!existsSync(file)) throw new UsageError(`${file}: no such file (make one with: npm run keys -- new --file ${file})`);
  return validateJwks(file, JSON.parse(readFileSync(file, 'utf8'))).keys;
}

/** Writes through a temp file and a rename, so a crash never leaves half a key set. */
function write(file: string, keys: JWK[]): void {
  validateJwks(file, { keys });
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

const signing = (keys: JWK[], key: JWK): boolean => signingKeys(keys).includes(key);

const made = (key: JWK): string => { const at = keyMadeAt(key); return at ? `  made ${at.toISOString().slice(0, 10)}` : ''; };

function find(keys: JWK[], kid: string | undefined): JWK {
  if (!kid) throw new UsageError('--kid is required');
  const key = keys.find((candidate) => candidate.kid === kid);
  if (!key) throw new UsageError(`no key with kid ${kid}`);
  return key;
}

type Command = (file: string, values: { kid?: string; alg?: string }) => Promise<string>;

const COMMANDS: Record<string, Command> = {
  async new(file) {
    if (existsSync(file)) throw new UsageError(`${file} exists: refusing to overwrite signing keys`);
    const { keys } = await generateSigningKeys();
    write(file, keys);
    return `wrote ${file}: ${keys.map((key) => `${key.alg} ${key.kid}`).join(', ')}`;
  },
  async add(file, values) {
    const alg = (values.alg ?? DEFAULT_ALG) as SigningAlg;
    if (!SIGNING_ALGS.includes(alg)) throw new UsageError(`--alg must be one of ${SIGNING_ALGS.join(', ')}`);
    const keys = read(file);
    const key = await generateSigningKey(alg);
    write(file, [...keys, key]);
    return `added ${alg} ${key.kid}: published at /jwks after a reload (SIGHUP) or restart; promote it once relying parties have fetched it`;
  },
  async promote(file, values) {
    const keys = read(file);
    const key = find(keys, values.kid);
    const index = keys.findIndex((candidate) => candidate.alg === key.alg);
    write(file, [...keys.slice(0, index).filter((k) => k !== key), key, ...keys.slice(index).filter((k) => k !== key)]);
    return `${key.kid} signs ${key.alg} tokens after a reload (SIGHUP) or restart; the previous key stays published`;
  },
  async retire(file, values) {
    const keys = read(file);
    const key = find(keys, values.kid);
    if (signing(keys, key)) throw new UsageError(`${key.kid} is the ${key.alg} signing key: promote another ${key.alg} key first`);
    write(file, keys.filter((candidate) => candidate !== key));
    return `retired ${key.kid}: tokens it signed stop verifying after a reload (SIGHUP) or restart`;
  },
  async list(file) {
    return read(file).map((key, _index, keys) => `${key.kid}  ${key.alg}  ${signing(keys, key) ? 'signing' : 'published'}${made(key)}`).join('\n');
  },
};

export async function keysCommand(argv: string[]): Promise<string> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  const name = positionals[0] ?? '';
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(SYNOPSIS);
  if (!values.file) throw new UsageError('--file is required');
  return command(values.file, values);
}

if (import.meta.url === `file://${process.argv[1]}`) runCli('keys', HELP, keysCommand);
