// What the simulated WeChat pushes to third-party platforms, exactly as WeChat does: the
// message as XML, encrypted with the platform's EncodingAESKey (WXBizMsgCrypt) inside
// `<xml><AppId/><Encrypt/></xml>`, with timestamp, nonce and msg_signature in the query.
// A component_verify_ticket every 10 minutes (and on demand) to the 授权事件接收URL;
// authorization events there too; an account's messages and events to every platform the
// account authorized, at its 消息与事件接收URL; and an Official Account's own events to its
// 服务器地址, in plaintext (`signature`) or safe mode (encrypted, `msg_signature`).

import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import { MessageCrypto, WeChatMessageError } from '../wechat/message-crypto.ts';
import { XMLParser } from 'fast-xml-parser';
import type { SimApp, SimPlatform, SimSceneQr, SimUser, SimWorld } from './world.ts';

export interface PlatformKeys {
  readonly appid: string;
  readonly token: string;
  readonly aesKey: string;
}

export interface Push {
  readonly query: URLSearchParams;
  readonly body: string;
}

/** What the receiver answered. */
export interface Delivery {
  readonly status: number;
  readonly body: string;
}

/**
 * What WeChat makes of a server's answer to a message or event: nothing for `success` or
 * an empty body; a text message the follower sees in the chat (its first link picked out
 * for tests); or, for anything else (a reply that does not decrypt or verify in safe mode,
 * JSON, a 5xx), the notice WeChat shows the follower instead.
 */
export type Reply = { readonly kind: 'none' } | { readonly kind: 'text'; readonly content: string; readonly link: string | undefined } | { readonly kind: 'failed'; readonly shown: string };

// The simulator reads XML on its own (it shares no parsing with the broker it checks).
const parser = new XMLParser({ processEntities: false, parseTagValue: false, ignoreAttributes: true });
function xmlFields(xml: string): Record<string, string> {
  let root: unknown;
  try {
    root = (parser.parse(xml) as { xml?: unknown }).xml;
  } catch {
    throw new WeChatMessageError('not XML');
  }
  if (typeof root !== 'object' || root === null) throw new WeChatMessageError('not WeChat XML');
  return Object.fromEntries(Object.entries(root).filter((field): field is [string, string] => typeof field[1] === 'string'));
}

const FAILED: Reply = { kind: 'failed', shown: '该公众号提供的服务出现故障，请稍后再试' };

/** The server's answer as WeChat reads it; `keys` decrypt it in safe mode. */
export function readReply(delivery: Delivery, keys?: PlatformKeys): Reply {
  if (delivery.status !== 200) return FAILED;
  if (delivery.body === '' || delivery.body === 'success') return { kind: 'none' };
  try {
    let fields = xmlFields(delivery.body);
    if (keys) {
      const crypto = new MessageCrypto(keys.token, keys.aesKey);
      const { Encrypt: encrypted = '', MsgSignature: signature = '', TimeStamp: timestamp = '', Nonce: nonce = '' } = fields;
      if (!crypto.verify(signature, timestamp, nonce, encrypted)) return FAILED;
      const decrypted = crypto.decrypt(encrypted);
      if (decrypted.appid !== keys.appid) return FAILED;
      fields = xmlFields(decrypted.message);
    }
    if (fields.MsgType !== 'text' || fields.Content === undefined) return FAILED;
    return { kind: 'text', content: fields.Content, link: /<a href="([^"]+)">/.exec(fields.Content)?.[1] };
  } catch (error) {
    if (error instanceof WeChatMessageError) return FAILED;
    throw error;
  }
}

const now = (): string => String(Math.floor(Date.now() / 1000));

/** A push of `fields` to the platform, as WeChat signs it; `overrides` bend one part (for tests of refusals). */
export function encryptedPush(keys: PlatformKeys, fields: Record<string, string>, overrides: { appid?: string; timestamp?: number; nonce?: string } = {}): Push {
  const crypto = new MessageCrypto(keys.token, keys.aesKey);
  const inner = xmlOf(fields);
  const encrypted = crypto.encrypt(inner, overrides.appid ?? keys.appid);
  const timestamp = overrides.timestamp === undefined ? now() : String(overrides.timestamp);
  const nonce = overrides.nonce ?? randomBytes(8).toString('hex');
  return {
    query: new URLSearchParams({ signature: crypto.signature(timestamp, nonce, ''), timestamp, nonce, encrypt_type: 'aes', msg_signature: crypto.signature(timestamp, nonce, encrypted) }),
    body: `<xml><AppId><![CDATA[${keys.appid}]]></AppId><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`,
  };
}

const xmlOf = (fields: Record<string, string>): string =>
  `<xml>${Object.entries(fields).map(([name, value]) => `<${name}><![CDATA[${value}]]></${name}>`).join('')}</xml>`;

/** A plaintext-mode push: the XML as is, `signature` = SHA-1 of the sorted token, timestamp and nonce. */
export function plainPush(token: string, fields: Record<string, string>, overrides: { timestamp?: number; nonce?: string } = {}): Push {
  const timestamp = overrides.timestamp === undefined ? now() : String(overrides.timestamp);
  const nonce = overrides.nonce ?? randomBytes(8).toString('hex');
  const signature = createHash('sha1').update([token, timestamp, nonce].sort().join('')).digest('hex');
  return { query: new URLSearchParams({ signature, timestamp, nonce, openid: fields.FromUserName ?? '' }), body: xmlOf(fields) };
}

/** An Official Account's event to its own server, as its 服务器配置 says (plaintext, or safe mode with an EncodingAESKey). */
export function accountPush(app: SimApp, fields: Record<string, string>): Push | undefined {
  const server = app.server;
  if (!server) return undefined;
  return server.aesKey ? encryptedPush({ appid: app.appid, token: server.token, aesKey: server.aesKey }, fields) : plainPush(server.token, fields);
}

/** A component_verify_ticket push. */
export function ticketPush(keys: PlatformKeys, ticket: string, overrides?: Parameters<typeof encryptedPush>[2]): Push {
  return encryptedPush(keys, { AppId: keys.appid, CreateTime: now(), InfoType: 'component_verify_ticket', ComponentVerifyTicket: ticket }, overrides);
}

/** POSTs the push to `url`; a receiver that cannot be reached is status 0. */
export async function deliver(url: string, push: Push): Promise<Delivery> {
  try {
    const response = await fetch(`${url}${url.includes('?') ? '&' : '?'}${push.query}`, {
      method: 'POST', headers: { 'content-type': 'text/xml' }, body: push.body, signal: AbortSignal.timeout(5000),
    });
    return { status: response.status, body: (await response.text()).slice(0, 8192) };
  } catch {
    return { status: 0, body: '' };
  }
}

/** A fresh ticket to the platform's 授权事件接收URL; undefined while none is set in its console. */
export function pushTicket(world: SimWorld, platform: SimPlatform): Promise<Delivery> | undefined {
  return platform.authEventsUrl === undefined ? undefined : deliver(platform.authEventsUrl, ticketPush(platform, world.platforms.issueTicket(platform)));
}

/**
 * An account authorized the platform (the push carries the authorization code, as WeChat's
 * does) or, without a code, withdrew its authorization: the event WeChat pushes.
 */
export function pushAuthorization(platform: SimPlatform, account: string, authorizationCode?: string): Promise<Delivery> | undefined {
  if (platform.authEventsUrl === undefined) return undefined;
  return deliver(platform.authEventsUrl, encryptedPush(platform, {
    AppId: platform.appid, CreateTime: now(), AuthorizerAppid: account,
    ...(authorizationCode === undefined
      ? { InfoType: 'unauthorized' }
      : { InfoType: 'authorized', AuthorizationCode: authorizationCode, AuthorizationCodeExpiredTime: String(Math.floor(Date.now() / 1000) + 600) }),
  }));
}

/** An account's event, to every platform it authorized (each answers for itself; none is preferred). */
export async function pushAccountEvent(world: SimWorld, account: string, fields: Record<string, string>): Promise<Array<Delivery & { platform: string }>> {
  const platforms = world.platforms.list.filter((platform) => platform.authorizers.has(account) && platform.eventsUrl !== undefined);
  return Promise.all(platforms.map(async (platform) => ({
    platform: platform.appid,
    ...await deliver((platform.eventsUrl ?? '').replace('$APPID$', account), encryptedPush(platform, { ToUserName: account, CreateTime: now(), ...fields })),
  })));
}

/**
 * `user` scans an account's parametric QR code with WeChat: follows if not yet a follower
 * (`subscribe`, EventKey `qrscene_<scene>`) or opens it (`SCAN`, EventKey `<scene>`); every
 * party gets the event: the account's own server, and each platform it authorized.
 * `repeat`: the event of an earlier scan, delivered again as WeChat does when it had no
 * answer within 5 s.
 */
export async function scanSceneQr(world: SimWorld, qr: SimSceneQr, user: SimUser, repeat?: Record<string, string>): Promise<Delivery & { event: string; fields: Record<string, string>; reply: Reply; deliveries: Delivery[] }> {
  const { app } = qr;
  const fresh = !repeat && world.follow(user, app);
  const fields = repeat ?? {
    ToUserName: `gh_${app.appid.slice(2, 14)}`, FromUserName: world.openid(app, user), CreateTime: now(),
    MsgType: 'event', Event: fresh ? 'subscribe' : 'SCAN', EventKey: fresh ? `qrscene_${qr.scene}` : qr.scene, Ticket: qr.ticket,
  };
  const push = accountPush(app, fields);
  const server = app.server;
  const own = push && server ? [{ ...await deliver(server.url, push), keys: server.aesKey ? { appid: app.appid, token: server.token, aesKey: server.aesKey } : undefined }] : [];
  const platforms = (await pushAccountEvent(world, app.appid, fields)).map((delivery) => ({ ...delivery, keys: world.platforms.list.find((platform) => platform.appid === delivery.platform) }));
  const deliveries = [...own, ...platforms];
  // The follower sees the first reply with content (WeChat takes one answer per push).
  const replies = deliveries.map((delivery) => readReply(delivery, delivery.keys));
  const reply = replies.find((candidate) => candidate.kind !== 'none') ?? { kind: 'none' };
  const first = deliveries[0];
  return { event: fields.Event ?? '', fields, status: first?.status ?? 0, body: first?.body ?? '', reply, deliveries: deliveries.map(({ status, body }) => ({ status, body })) };
}

/**
 * Tickets on WeChat's timer: every `everyMs` to every platform with a URL set; a push that
 * did not get `success` (the broker is still starting, say) is tried again a second later,
 * as a new ticket. Returns the stop.
 */
export function pushTicketsPeriodically(world: SimWorld, everyMs: number, firstInMs = 1000): () => void {
  let timer: NodeJS.Timeout;
  const round = async () => {
    const deliveries = await Promise.all(world.platforms.list.map((platform) => pushTicket(world, platform)));
    const failed = deliveries.some((delivery) => delivery && delivery.body !== 'success');
    timer = setTimeout(round, failed ? 1000 : everyMs).unref();
  };
  timer = setTimeout(round, firstInMs).unref();
  return () => clearTimeout(timer);
}
