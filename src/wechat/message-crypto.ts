// WeChat's message crypto, the same for third-party platform pushes and Official Account
// safe mode: AES-256-CBC with the key Base64-decoded from the 43-character EncodingAESKey
// (plus "="), the IV its first 16 bytes, WeChat's own padding (PKCS#7 to a multiple of
// 32 bytes, not 16); the plaintext is 16 random bytes, the message length (4 bytes, big
// endian), the message, then the appid. `msg_signature` is the SHA-1 (hex) of the token,
// timestamp, nonce and ciphertext, sorted and joined.

import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const BLOCK = 32;

/** Whether `value` can be an EncodingAESKey: 43 letters and digits, as WeChat's console makes them. */
export function isEncodingAesKey(value: string): boolean {
  return /^[A-Za-z0-9]{43}$/.test(value);
}

/** Why a message was refused. */
export class WeChatMessageError extends Error {
  readonly code = 'WECHAT_MESSAGE_REFUSED';
  constructor(reason: string) {
    super(reason);
    this.name = 'WeChatMessageError';
  }
}

export interface Decrypted {
  readonly message: string;
  /** The appid WeChat put after the message: whom the message is for. */
  readonly appid: string;
}

export class MessageCrypto {
  readonly #token: string;
  readonly #key: Buffer;

  /** `encodingAesKey`: the 43 characters set in WeChat's console. */
  constructor(token: string, encodingAesKey: string) {
    if (!isEncodingAesKey(encodingAesKey)) throw new WeChatMessageError('an EncodingAESKey is 43 letters and digits');
    this.#token = token;
    this.#key = Buffer.from(`${encodingAesKey}=`, 'base64');
  }

  signature(timestamp: string, nonce: string, encrypted: string): string {
    return createHash('sha1').update([this.#token, timestamp, nonce, encrypted].sort().join('')).digest('hex');
  }

  /** Whether `signature` is the one for these values (compared in constant time). */
  verify(signature: string, timestamp: string, nonce: string, encrypted: string): boolean {
    const expected = Buffer.from(this.signature(timestamp, nonce, encrypted));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** `random`: 16 bytes; fresh ones unless a test gives them. */
  encrypt(message: string, appid: string, random: Buffer = randomBytes(16)): string {
    const body = Buffer.from(message, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    const plain = Buffer.concat([random, length, body, Buffer.from(appid, 'utf8')]);
    const pad = BLOCK - (plain.length % BLOCK);
    const cipher = createCipheriv('aes-256-cbc', this.#key, this.#key.subarray(0, 16)).setAutoPadding(false);
    return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
  }

  decrypt(encrypted: string): Decrypted {
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-cbc', this.#key, this.#key.subarray(0, 16)).setAutoPadding(false);
      plain = Buffer.concat([decipher.update(Buffer.from(encrypted, 'base64')), decipher.final()]);
    } catch {
      throw new WeChatMessageError('not a ciphertext of this key');
    }
    const pad = plain[plain.length - 1] ?? 0;
    if (pad < 1 || pad > BLOCK || plain.length < 20 + pad) throw new WeChatMessageError('bad padding');
    const content = plain.subarray(16, plain.length - pad);
    const length = content.readUInt32BE(0);
    if (length > content.length - 4) throw new WeChatMessageError('bad message length');
    return { message: content.subarray(4, 4 + length).toString('utf8'), appid: content.subarray(4 + length).toString('utf8') };
  }
}
