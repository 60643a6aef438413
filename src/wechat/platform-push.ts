// What WeChat pushes to a server: POSTed XML. Encrypted (a third-party platform always; an
// Official Account in safe mode): the `Encrypt` element is the message encrypted with the
// EncodingAESKey, signed (`msg_signature`) with the token; accepted only when the
// signature is right, the timestamp recent, the ciphertext
// decrypts, and the appid at its end is the receiver's. Then the fields are read (WeChat's
// flat XML). Plaintext pushes (`signature` over the token, timestamp and nonce, not the
// message) are not accepted; the plaintext signature only checks WeChat's URL check.

import { createHash, timingSafeEqual } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { MessageCrypto, WeChatMessageError } from './message-crypto.ts';

/** Pushes older or newer than this are refused (replays, skewed clocks). */
const FRESH_S = 10 * 60;
const MAX_BODY_CHARS = 64 * 1024;

const parser = new XMLParser({ processEntities: false, parseTagValue: false, ignoreDeclaration: true, ignoreAttributes: true });

/** WeChat's flat XML (`<xml><Name>value</Name>…</xml>`) as text fields. */
export function xmlFields(xml: string): Record<string, string> {
  if (xml.length > MAX_BODY_CHARS) throw new WeChatMessageError('push too large');
  let parsed: unknown;
  try {
    parsed = parser.parse(xml);
  } catch {
    throw new WeChatMessageError('not XML');
  }
  const root = (parsed as { xml?: unknown } | undefined)?.xml;
  if (typeof root !== 'object' || root === null) throw new WeChatMessageError('no <xml> element');
  // parseTagValue is off, so every leaf is text; nested elements are not WeChat's flat fields.
  return Object.fromEntries(Object.entries(root).filter((field): field is [string, string] => typeof field[1] === 'string'));
}

export interface PushQuery {
  readonly signature?: unknown;
  readonly msg_signature?: unknown;
  readonly timestamp?: unknown;
  readonly nonce?: unknown;
}

export interface VerifiedPush {
  /** The decrypted message's fields. */
  readonly fields: Record<string, string>;
}

/** The signature WeChat puts on a plaintext push or a URL check: SHA-1 of the sorted token, timestamp and nonce. */
export function plainSignature(token: string, timestamp: string, nonce: string): string {
  return createHash('sha1').update([token, timestamp, nonce].sort().join('')).digest('hex');
}

/** A well-formed timestamp and nonce, and a signature string; throws otherwise. */
function signed(signature: unknown, timestamp: unknown, nonce: unknown, now: number): { signature: string; timestamp: string; nonce: string } {
  if (typeof signature !== 'string' || typeof timestamp !== 'string' || typeof nonce !== 'string' || !/^\d{1,12}$/.test(timestamp) || !/^[A-Za-z0-9]{1,64}$/.test(nonce)) {
    throw new WeChatMessageError('signature, timestamp and nonce are required');
  }
  if (Math.abs(now / 1000 - Number(timestamp)) > FRESH_S) throw new WeChatMessageError('timestamp not recent');
  return { signature, timestamp, nonce };
}

/** Whether `signature` is the plaintext signature for these values (constant time). */
export function verifyPlain(token: string, query: PushQuery): boolean {
  const { signature, timestamp, nonce } = query;
  if (typeof signature !== 'string' || typeof timestamp !== 'string' || typeof nonce !== 'string') return false;
  const expected = Buffer.from(plainSignature(token, timestamp, nonce));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Verifies and decrypts one push for `appid` (a platform's, or an Official Account's in
 * safe mode). Throws WeChatMessageError with the reason. A push seen before is not refused
 * here: WeChat repeats a push it had no answer to, and it gets the first one's answer
 * (platforms/push-answers.ts).
 */
export function openPush(crypto: MessageCrypto, appid: string, query: PushQuery, body: string, now = Date.now()): VerifiedPush {
  const { signature, timestamp, nonce } = signed(query.msg_signature, query.timestamp, query.nonce, now);
  const encrypted = xmlFields(body).Encrypt;
  if (!encrypted) throw new WeChatMessageError('no Encrypt element');
  if (!crypto.verify(signature, timestamp, nonce, encrypted)) throw new WeChatMessageError('bad msg_signature');
  const { message, appid: recipient } = crypto.decrypt(encrypted);
  if (recipient !== appid) throw new WeChatMessageError('the message is for another appid');
  return { fields: xmlFields(message) };
}
