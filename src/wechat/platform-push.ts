// What a third-party platform receives from WeChat: POSTed XML whose `Encrypt` element is
// a message encrypted with the platform's EncodingAESKey, signed (`msg_signature` in the
// query) with its token. A push is accepted only when the signature is right, the
// timestamp recent, the nonce not seen before, the ciphertext decrypts, and the appid at
// its end is this platform's. Then its fields are read (WeChat's flat XML).

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
  readonly msg_signature?: unknown;
  readonly timestamp?: unknown;
  readonly nonce?: unknown;
}

export interface VerifiedPush {
  /** The decrypted message's fields. */
  readonly fields: Record<string, string>;
  readonly nonce: string;
}

/**
 * Verifies and decrypts one push for the platform `appid`. `seen(nonce)` tells whether a
 * nonce was used before (and records it). Throws WeChatMessageError with the reason.
 */
export async function openPush(crypto: MessageCrypto, appid: string, query: PushQuery, body: string, seen: (nonce: string) => Promise<boolean>, now = Date.now()): Promise<VerifiedPush> {
  const { msg_signature: signature, timestamp, nonce } = query;
  if (typeof signature !== 'string' || typeof timestamp !== 'string' || typeof nonce !== 'string' || !/^\d{1,12}$/.test(timestamp) || !/^[A-Za-z0-9]{1,64}$/.test(nonce)) {
    throw new WeChatMessageError('msg_signature, timestamp and nonce are required');
  }
  if (Math.abs(now / 1000 - Number(timestamp)) > FRESH_S) throw new WeChatMessageError('timestamp not recent');
  const encrypted = xmlFields(body).Encrypt;
  if (!encrypted) throw new WeChatMessageError('no Encrypt element');
  if (!crypto.verify(signature, timestamp, nonce, encrypted)) throw new WeChatMessageError('bad msg_signature');
  const { message, appid: recipient } = crypto.decrypt(encrypted);
  if (recipient !== appid) throw new WeChatMessageError('the message is for another appid');
  if (await seen(nonce)) throw new WeChatMessageError('replayed');
  return { fields: xmlFields(message), nonce };
}
