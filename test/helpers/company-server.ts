// A company's own server for an Official Account's pushes, as the broker forwards them:
// it checks WeChat's msg_signature itself (SHA-1 of the sorted token, timestamp, nonce and
// ciphertext), decrypts, keeps what it received, and answers like a customer-service bot:
// a text reply to a text message, `success` to anything else; it never answers "slow".

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MessageCrypto } from '../../src/wechat/message-crypto.ts';

export interface CompanyServer {
  readonly url: string;
  /** What it received, decrypted, with whether the signature was WeChat's. */
  readonly received: Array<{ readonly fields: Record<string, string>; readonly signed: boolean; readonly contentType: string }>;
  close(): Promise<void>;
}

const field = (xml: string, name: string): string => new RegExp(`<${name}>(?:<!\\[CDATA\\[)?(.*?)(?:\\]\\]>)?</${name}>`, 's').exec(xml)?.[1] ?? '';

export async function startCompanyServer(keys: { appid: string; token: string; aesKey: string }): Promise<CompanyServer> {
  const crypto = new MessageCrypto(keys.token, keys.aesKey);
  const received: CompanyServer['received'] = [];
  const held: ServerResponse[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const query = new URL(request.url ?? '/', 'http://company').searchParams;
      const encrypted = field(Buffer.concat(chunks).toString('utf8'), 'Encrypt');
      const expected = createHash('sha1').update([keys.token, query.get('timestamp') ?? '', query.get('nonce') ?? '', encrypted].sort().join('')).digest('hex');
      const signed = expected === query.get('msg_signature');
      const message = signed ? crypto.decrypt(encrypted).message : '';
      const fields = Object.fromEntries(['ToUserName', 'FromUserName', 'MsgType', 'Content', 'Event', 'EventKey', 'MsgId'].map((name) => [name, field(message, name)]));
      received.push({ fields, signed, contentType: String(request.headers['content-type'] ?? '') });
      if (fields.Content === 'slow') return void held.push(response);
      if (!signed || fields.MsgType !== 'text') return void response.end('success');
      const reply = `<xml><ToUserName><![CDATA[${fields.FromUserName}]]></ToUserName><FromUserName><![CDATA[${fields.ToUserName}]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[company bot: ${fields.Content}]]></Content></xml>`;
      const answer = crypto.encrypt(reply, keys.appid);
      const [timestamp, nonce] = [String(Math.floor(Date.now() / 1000)), 'company1'];
      response.setHeader('content-type', 'application/xml');
      response.end(`<xml><Encrypt><![CDATA[${answer}]]></Encrypt><MsgSignature><![CDATA[${crypto.signature(timestamp, nonce, answer)}]]></MsgSignature><TimeStamp>${timestamp}</TimeStamp><Nonce><![CDATA[${nonce}]]></Nonce></xml>`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/wechat`,
    received,
    async close() {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}
