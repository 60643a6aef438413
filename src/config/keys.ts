// Signing keys: JWKS_FILE in production, fresh keys for each start in dev mode.
//
// RS256 is what a relying party gets when it registers no id_token_signed_response_alg
// (OIDC Dynamic Client Registration 1.0 §2), and relying parties may insist on it (OIDC
// Core 3.1.3.7), so JWKS_FILE must hold an RS256 key. Others (ES256, PS256, EdDSA) are
// there for clients that register them. Every key says which one algorithm it signs
// (`alg`, set here when the file leaves it out), and discovery offers exactly those.

import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { ConfigError } from './errors.ts';
import { readJsonFile } from './files.ts';

export const SIGNING_ALGS = ['RS256', 'ES256', 'PS256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
/** The algorithm every JWKS_FILE must be able to sign with. */
export const DEFAULT_ALG: SigningAlg = 'RS256';
/** RSA keys shorter than this are refused (NIST SP 800-57; oidc-provider's own floor). */
const MIN_RSA_BITS = 2048;

/**
 * When a key was made, in seconds since the epoch: a member of the private JWK (RFC 7517 4
 * lets a JWK carry members of its own; others ignore them) that `npm run keys` writes and the
 * doctor reads. oidc-provider never publishes it: /jwks carries only the public members.
 */
export const KEY_MADE = 'iat';

/** When `key` was made (its `iat`), or undefined for a key made elsewhere. */
export function keyMadeAt(key: JWK): Date | undefined {
  const made = (key as Record<string, unknown>)[KEY_MADE];
  return typeof made === 'number' ? new Date(made * 1000) : undefined;
}

export interface SigningKeys {
  readonly keys: JWK[];
}

/** The algorithms a key type (and curve) can sign with, the first being what it signs when `alg` is absent. */
function algsFor(key: JWK): readonly SigningAlg[] {
  if (key.kty === 'RSA') return ['RS256', 'PS256'];
  if (key.kty === 'EC' && key.crv === 'P-256') return ['ES256'];
  if (key.kty === 'OKP' && key.crv === 'Ed25519') return ['EdDSA'];
  return [];
}

function rsaBits(key: JWK): number {
  return typeof key.n === 'string' ? Buffer.from(key.n, 'base64url').length * 8 : 0;
}

/** What is wrong with one key, or undefined when the broker can sign with it. */
function problemOf(key: JWK): string | undefined {
  if (typeof key.kid !== 'string' || key.kid === '') return 'has no kid';
  if (typeof key.d !== 'string') return 'is not a private key (no "d")';
  const algs = algsFor(key);
  if (algs.length === 0) return `is a ${String(key.kty)}${key.crv ? ` ${key.crv}` : ''} key: only RSA (RS256, PS256), EC P-256 (ES256) and Ed25519 (EdDSA) keys can sign`;
  if (key.alg !== undefined && !algs.includes(key.alg as SigningAlg)) return `says alg ${key.alg}, which a ${key.kty} key cannot sign here (${algs.join(', ')})`;
  if (key.kty === 'RSA' && rsaBits(key) < MIN_RSA_BITS) return `is an RSA key of ${rsaBits(key)} bits: at least ${MIN_RSA_BITS} are needed`;
  if (key.use !== undefined && key.use !== 'sig') return 'says use other than "sig"';
  const made = (key as Record<string, unknown>)[KEY_MADE];
  if (made !== undefined && !(Number.isSafeInteger(made) && (made as number) > 0)) return `says ${KEY_MADE} ${JSON.stringify(made)}: expected when the key was made, in seconds since 1970`;
  return undefined;
}

/** Checks a private JWK set: every key usable and named, an RS256 key among them. */
export function validateJwks(variable: string, value: unknown): SigningKeys {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new ConfigError(variable, 'expected a JWK set: {"keys": [...]}');
  const kids = new Set<string>();
  const checked = keys.map((key: JWK, index): JWK => {
    const where = `key ${index}${typeof key?.kid === 'string' ? ` (kid ${key.kid})` : ''}`;
    if (typeof key !== 'object' || key === null || Array.isArray(key)) throw new ConfigError(variable, `${where} is not an object`);
    const problem = problemOf(key);
    if (problem) throw new ConfigError(variable, `${where} ${problem}`);
    if (kids.has(key.kid!)) throw new ConfigError(variable, `${where}: kid is used twice`);
    kids.add(key.kid!);
    return { ...key, alg: key.alg ?? algsFor(key)[0], use: 'sig' };
  });
  if (!checked.some((key) => key.alg === DEFAULT_ALG)) {
    throw new ConfigError(variable, `needs an ${DEFAULT_ALG} key: ${DEFAULT_ALG} is what relying parties get unless they register another algorithm`);
  }
  return { keys: checked };
}

/** The algorithms these keys sign with, RS256 first: exactly what discovery offers. */
export function signingAlgs(keys: SigningKeys): SigningAlg[] {
  const present = new Set(keys.keys.map((key) => key.alg));
  return SIGNING_ALGS.filter((alg) => present.has(alg));
}

/** The keys that sign: the first of each algorithm (oidc-provider signs with the first key of the algorithm it needs); the others are only published. */
export function signingKeys(keys: readonly JWK[]): JWK[] {
  return keys.filter((key, index) => keys.findIndex((candidate) => candidate.alg === key.alg) === index);
}

export function loadJwksFile(variable: string, path: string): SigningKeys {
  return validateJwks(variable, readJsonFile(variable, path));
}

export async function generateSigningKey(alg: SigningAlg): Promise<JWK> {
  const rsa = alg === 'RS256' || alg === 'PS256';
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(rsa ? { modulusLength: 2048 } : {}), ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const made: Record<string, number> = { [KEY_MADE]: Math.floor(Date.now() / 1000) };
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg, use: 'sig', ...made };
}

/** One RS256 and one ES256 key, for dev mode and `npm run keys -- new`. */
export async function generateSigningKeys(): Promise<SigningKeys> {
  return { keys: await Promise.all((['RS256', 'ES256'] as const).map(generateSigningKey)) };
}
