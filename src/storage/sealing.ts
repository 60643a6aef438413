// Secrets the broker must keep (a third-party platform's authorizer refresh tokens) are
// stored sealed: AES-256-GCM under DATA_KEYS, so a storage dump, a backup or a replica
// does not hand them out. Keys rotate like COOKIE_KEYS: the first seals, every key opens;
// each sealed value names (by a short fingerprint) the key that sealed it. A value no key
// opens (tampered, or its key retired) is simply not there, and its owner fetches it again.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';

interface Key {
  readonly id: string;
  readonly bytes: Buffer;
}

/** A 256-bit key from a configured secret (32+ characters), and its fingerprint. */
function keyOf(secret: string): Key {
  const bytes = createHash('sha256').update(`broker data key\n${secret}`).digest();
  return { id: createHash('sha256').update(bytes).digest('base64url').slice(0, 8), bytes };
}

export class Sealer {
  readonly #keys: readonly Key[];

  /** `secrets`: DATA_KEYS, the first seals. */
  constructor(secrets: readonly [string, ...string[]]) {
    this.#keys = secrets.map(keyOf);
  }

  /** `text` sealed: `v1.<key>.<iv>.<ciphertext>.<tag>`, base64url parts. `purpose` binds it to one use (authenticated, not stored). */
  seal(text: string, purpose: string): string {
    const key = this.#keys[0] as Key;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.bytes, iv).setAAD(Buffer.from(purpose));
    const sealed = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return [VERSION, key.id, iv.toString('base64url'), sealed.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** The text, or undefined when no key opens it for `purpose` (another key, tampered, not sealed). */
  open(value: unknown, purpose: string): string | undefined {
    if (typeof value !== 'string') return undefined;
    const [version, id, iv, sealed, tag] = value.split('.');
    const key = this.#keys.find((candidate) => candidate.id === id);
    if (version !== VERSION || !key || !iv || sealed === undefined || !tag) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url')).setAAD(Buffer.from(purpose));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
