// A passive reply (被动回复用户消息): the answer to a pushed message or event, which WeChat
// shows the follower in the account's chat. A text message names the follower
// (`ToUserName`, the openid the push came from) and the account (`FromUserName`, the
// account's original id the push was addressed to). In safe mode (安全模式) the reply is
// encrypted like the push, as `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`
// (WeChat's "Passive user reply message" and "Message encryption and decryption"
// documentation); anything else in safe mode makes WeChat show the follower
// "该公众号提供的服务出现故障".

import { randomBytes } from 'node:crypto';
import type { MessageCrypto } from './message-crypto.ts';

/** WeChat's acknowledgement without content. */
export const ACKNOWLEDGE = 'success';

/** Text inside CDATA: a `]]>` in it would end the section, so it is split across two. */
const cdata = (text: string): string => `<![CDATA[${text.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;

/** A text message to the follower who sent `push` (WeChat's chat shows `<a href>` links in it). */
export function textReply(push: Readonly<Record<string, string>>, content: string, now = Date.now()): string {
  return `<xml><ToUserName>${cdata(push.FromUserName ?? '')}</ToUserName><FromUserName>${cdata(push.ToUserName ?? '')}</FromUserName>`
    + `<CreateTime>${Math.floor(now / 1000)}</CreateTime><MsgType>${cdata('text')}</MsgType><Content>${cdata(content)}</Content></xml>`;
}

/** `reply` as WeChat takes it in safe mode: encrypted for `appid` and signed; `success` stays as it is. */
export function encryptedReply(crypto: MessageCrypto, appid: string, reply: string, now = Date.now()): string {
  if (reply === ACKNOWLEDGE) return reply;
  const timestamp = String(Math.floor(now / 1000));
  const nonce = randomBytes(8).toString('hex');
  const encrypted = crypto.encrypt(reply, appid);
  return `<xml><Encrypt>${cdata(encrypted)}</Encrypt><MsgSignature>${cdata(crypto.signature(timestamp, nonce, encrypted))}</MsgSignature>`
    + `<TimeStamp>${timestamp}</TimeStamp><Nonce>${cdata(nonce)}</Nonce></xml>`;
}
