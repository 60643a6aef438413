// Builds a push the way WeChat sends one to a third-party platform: the message encrypted
// with the platform's EncodingAESKey inside `<xml><Encrypt>`, signed in the query.

import { randomBytes } from 'node:crypto';
import { MessageCrypto } from '../../src/wechat/message-crypto.ts';

export interface PlatformKeys {
  readonly appid: string;
  readonly token: string;
  readonly aesKey: string;
}

export interface Push {
  readonly query: URLSearchParams;
  readonly body: string;
}

/** A push of `fields` to the platform, as WeChat signs it; `overrides` bend one part. */
export function wechatPush(keys: PlatformKeys, fields: Record<string, string>, overrides: { appid?: string; timestamp?: number; nonce?: string } = {}): Push {
  const crypto = new MessageCrypto(keys.token, keys.aesKey);
  const inner = `<xml>${Object.entries(fields).map(([name, value]) => `<${name}><![CDATA[${value}]]></${name}>`).join('')}</xml>`;
  const encrypted = crypto.encrypt(inner, overrides.appid ?? keys.appid);
  const timestamp = String(overrides.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = overrides.nonce ?? randomBytes(8).toString('hex');
  return {
    query: new URLSearchParams({ signature: 'unused', timestamp, nonce, encrypt_type: 'aes', msg_signature: crypto.signature(timestamp, nonce, encrypted) }),
    body: `<xml><AppId><![CDATA[${keys.appid}]]></AppId><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`,
  };
}

/** A component_verify_ticket push, as WeChat sends one every 10 minutes. */
export function ticketPush(keys: PlatformKeys, ticket: string, overrides?: Parameters<typeof wechatPush>[2]): Push {
  return wechatPush(keys, { AppId: keys.appid, CreateTime: String(Math.floor(Date.now() / 1000)), InfoType: 'component_verify_ticket', ComponentVerifyTicket: ticket }, overrides);
}

export async function sendPush(url: string, push: Push): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}?${push.query}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: push.body });
  return { status: response.status, body: await response.text() };
}
