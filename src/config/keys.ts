// Signing keys: JWKS_FILE in production, fresh keys for each start in dev mode.

import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { ConfigError } from './errors.ts';
import { readJsonFile } from './files.ts';

export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

export interface SigningKeys {
  readonly keys: JWK[];
}

function algOf(key: JWK): SigningAlg | undefined {
  if (key.alg === 'ES256' || (key.alg === undefined && key.kty === 'EC' && key.crv === 'P-256')) return 'ES256';
  if (key.alg === 'RS256' || (key.alg === undefined && key.kty === 'RSA')) return 'RS256';
  return undefined;
}

/** Checks a private JWK set: every key private, with a kid, for ES256 or RS256; ES256 present. */
export function validateJwks(variable: string, value: unknown): SigningKeys {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new ConfigError(variable, 'expected a JWK set: {"keys": [...]}');
  const kids = new Set<string>();
  keys.forEach((key: JWK, index) => {
    const where = `key ${index}${typeof key?.kid === 'string' ? ` (kid ${key.kid})` : ''}`;
    if (typeof key !== 'object' || key === null) throw new ConfigError(variable, `${where} is not an object`);
    if (typeof key.kid !== 'string' || key.kid === '') throw new ConfigError(variable, `${where} has no kid`);
    if (kids.has(key.kid)) throw new ConfigError(variable, `${where}: kid is used twice`);
    kids.add(key.kid);
    if (typeof key.d !== 'string') throw new ConfigError(variable, `${where} is not a private key (no "d")`);
    if (!algOf(key)) throw new ConfigError(variable, `${where}: only ES256 (EC P-256) and RS256 (RSA) keys are supported`);
    if (key.use !== undefined && key.use !== 'sig') throw new ConfigError(variable, `${where}: use must be "sig"`);
  });
  if (!keys.some((key: JWK) => algOf(key) === 'ES256')) throw new ConfigError(variable, 'needs an ES256 key: ES256 is the default signing algorithm');
  return { keys: keys.map((key: JWK) => ({ ...key, alg: algOf(key), use: 'sig' })) };
}

export function loadJwksFile(variable: string, path: string): SigningKeys {
  return validateJwks(variable, readJsonFile(variable, path));
}

export async function generateSigningKey(alg: SigningAlg): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg, use: 'sig' };
}

/** One ES256 and one RS256 key, for dev mode. */
export async function generateSigningKeys(): Promise<SigningKeys> {
  return { keys: await Promise.all(SIGNING_ALGS.map(generateSigningKey)) };
}
