// A third-party platform's push endpoints over real HTTP: WeChat's component_verify_ticket
// is kept; a push that is not WeChat's (bad signature, another appid, a stale timestamp,
// not XML) gets 400, a log line, and changes nothing; a repeated push gets its first
// answer and changes nothing more.

import test from 'ava';
import Koa from 'koa';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { PlatformTokens } from '../../src/platforms/platform-tokens.ts';
import { PlatformPushes } from '../../src/platforms/pushes.ts';
import { createLogger } from '../../src/log.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { WeChatClient } from '../../src/wechat/client.ts';
import { MessageCrypto } from '../../src/wechat/message-crypto.ts';
import type { AppId } from '../../src/wechat/types.ts';
import { sendPush, ticketPush, wechatPush } from '../helpers/platform-push.ts';

const keys = { appid: 'wxc0mp0nent00000a1', token: 'platformToken1', aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' };

async function start() {
  const output = new PassThrough();
  const lines: Array<Record<string, unknown>> = [];
  output.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)));
  const storage = new MemoryStorage();
  const log = createLogger('debug', output);
  const apps = [{ id: 'isv', ...keys, appid: keys.appid as AppId, secret: 's'.repeat(32) }];
  // No WeChat call is made here: only pushes arrive.
  const tokens = new PlatformTokens(apps, storage, new WeChatClient({ apiUrl: 'http://127.0.0.1:9', timeoutMs: 1000, log }), log);
  // What authorizations and account events lead to is tested with their modules.
  const authorizations = { authorized: async () => undefined, unauthorized: async () => undefined };
  const platforms = new PlatformPushes({ platforms: apps, storage, tokens, authorizations, events: { platformEvent: async () => 'success' }, log });
  const app = new Koa();
  app.use(platforms.routes().routes());
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wechat/platform`;
  return {
    tokens, lines, auth: `${base}/isv/auth-events`, base,
    close: () => { storage.close(); server.close(); },
  };
}

test('a ticket push is acknowledged with `success`, kept, and replaced by the next', async (t) => {
  const broker = await start();
  t.teardown(broker.close);
  t.is(await broker.tokens.ticket('isv'), undefined);
  t.deepEqual(await sendPush(broker.auth, ticketPush(keys, 'ticket@@@one')), { status: 200, body: 'success' });
  t.is(await broker.tokens.ticket('isv'), 'ticket@@@one');
  t.deepEqual(await sendPush(broker.auth, ticketPush(keys, 'ticket@@@two')), { status: 200, body: 'success' });
  t.is(await broker.tokens.ticket('isv'), 'ticket@@@two');
  t.true(broker.lines.some((line) => line.msg === 'component_verify_ticket received' && line.platform === 'isv'));
  t.false(JSON.stringify(broker.lines).includes('ticket@@@'), 'the ticket is never logged');
});

test('a repeated push (WeChat retries when it had no answer) gets its first answer and changes nothing more', async (t) => {
  const broker = await start();
  t.teardown(broker.close);
  const early = ticketPush(keys, 'early');
  t.deepEqual(await sendPush(broker.auth, early), { status: 200, body: 'success' });
  await sendPush(broker.auth, ticketPush(keys, 'later'));
  t.deepEqual(await sendPush(broker.auth, early), { status: 200, body: 'success' }, 'never refused: WeChat would tell the follower the service failed');
  t.is(await broker.tokens.ticket('isv'), 'later', 'the repeat did not bring the older ticket back');
  t.true(broker.lines.some((line) => line.msg === 'WeChat repeated a push: its first answer again'));
});

test('pushes that are not WeChat\'s are refused with 400 and a reason in the log, and the ticket stays', async (t) => {
  const broker = await start();
  t.teardown(broker.close);
  await sendPush(broker.auth, ticketPush(keys, 'genuine'));
  const forged = ticketPush({ ...keys, token: 'someoneElse' }, 'forged-signature');
  const cases: Array<[string, Parameters<typeof sendPush>[1], RegExp]> = [
    ['another token', forged, /bad msg_signature/],
    ['another platform\'s appid inside', ticketPush(keys, 'forged-appid', { appid: 'wxa11e0ther0000000' }), /another appid/],
    ['a stale timestamp', ticketPush(keys, 'forged-stale', { timestamp: Math.floor(Date.now() / 1000) - 3600 }), /not recent/],
    ['no signature', { query: new URLSearchParams(), body: '<xml/>' }, /required/],
    ['not XML', { ...ticketPush(keys, 'x'), body: '{"Encrypt": "x"}' }, /xml|Encrypt/i],
    ['XML without Encrypt', { ...ticketPush(keys, 'x'), body: '<xml><ToUserName>a</ToUserName></xml>' }, /no Encrypt/],
  ];
  for (const [name, push, reason] of cases) {
    const before = broker.lines.length;
    t.deepEqual(await sendPush(broker.auth, push), { status: 400, body: 'refused' }, name);
    t.regex(String(broker.lines.slice(before).find((line) => line.msg === 'WeChat push refused')?.reason), reason, name);
  }
  t.is(await broker.tokens.ticket('isv'), 'genuine');
});

test('an unknown platform is 404; message and event pushes for an authorizer are acknowledged', async (t) => {
  const broker = await start();
  t.teardown(broker.close);
  t.is((await sendPush(`${broker.base}/nobody/auth-events`, ticketPush(keys, 'x'))).status, 404);
  const event = wechatPush(keys, { ToUserName: 'gh_0123456789ab', FromUserName: 'oUser', MsgType: 'event', Event: 'subscribe' });
  t.deepEqual(await sendPush(`${broker.base}/isv/events/wx0a0b0c0d0e0f0a0b`, event), { status: 200, body: 'success' });
  t.is(await broker.tokens.ticket('isv'), undefined, 'an event is not a ticket');
});

/** A push WeChat's keys sign and encrypt correctly, whatever its decrypted content: only what is inside is hostile. */
function signedPush(inner: string, appid = keys.appid): { query: URLSearchParams; body: string } {
  const crypto = new MessageCrypto(keys.token, keys.aesKey);
  const encrypted = crypto.encrypt(inner, appid);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = `n${Math.random().toString(36).slice(2, 12)}`;
  return { query: new URLSearchParams({ timestamp, nonce, msg_signature: crypto.signature(timestamp, nonce, encrypted) }), body: `<xml><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>` };
}

test('hostile content inside a correctly signed push: malformed XML, entities, deep nesting, a huge message, another appid; never a 5xx, the ticket never changes', async (t) => {
  const broker = await start();
  t.teardown(broker.close);
  await sendPush(broker.auth, ticketPush(keys, 'genuine'));
  const ticket = (value: string) => `<xml><AppId>${keys.appid}</AppId><CreateTime>1</CreateTime><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>${value}</ComponentVerifyTicket></xml>`;
  const hostile: Array<[string, string, string?]> = [
    ['not XML', '{"InfoType": "component_verify_ticket"}'],
    ['unclosed', '<xml><InfoType>component_verify_ticket'],
    ['an external entity', `<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>${ticket('&x;')}`],
    ['a billion laughs', `<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>${ticket('&c;')}`],
    ['nested 5 000 deep', `<xml>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</xml>`],
    ['a message near 40 KiB', ticket('t'.repeat(40 * 1024))],
    ['a message over 64 KiB (its push is over the body limit)', ticket('t'.repeat(70 * 1024))],
    ['fields nested where text belongs', '<xml><InfoType><x>component_verify_ticket</x></InfoType><ComponentVerifyTicket><y>z</y></ComponentVerifyTicket></xml>'],
    ['for another appid', ticket('other-appid'), 'wx0ther0000000000a'],
  ];
  for (const [name, inner, appid] of hostile) {
    const answer = await sendPush(broker.auth, signedPush(inner, appid));
    t.true([200, 400, 413].includes(answer.status), `${name}: ${answer.status} ${answer.body.slice(0, 80)}`);
    t.true(answer.status === 413 || answer.body === 'refused' || answer.body === 'success', name);
  }
  const ticketNow = await broker.tokens.ticket('isv');
  t.true(ticketNow === 'genuine' || ticketNow === '&x;' || ticketNow === '&c;' || /^t+$/.test(String(ticketNow)), `no entity was expanded: ${String(ticketNow).slice(0, 40)}`);
  t.not(ticketNow, 'other-appid');
  t.false(broker.lines.some((line) => line.level === 50), 'nothing logged as an error');
});
