// WeChat's message crypto against the sample values Tencent publishes with its
// WXBizMsgCrypt libraries (the Java sample's test, and the push in the samples' usage
// notes), not only a round trip; the passive reply WeChat opens the same way.

import test from 'ava';
import { MessageCrypto, WeChatMessageError } from '../../src/wechat/message-crypto.ts';
import { ACKNOWLEDGE, encryptedReply, textReply } from '../../src/wechat/passive-reply.ts';
import { openPush, xmlFields } from '../../src/wechat/platform-push.ts';

const SAMPLE = {
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  token: 'pamtest',
  timestamp: '1409304348',
  nonce: 'xxxxxx',
  appid: 'wxb11529c136998cb6',
  message: '我是中文abcd123',
  random: 'aaaabbbbccccdddd',
  encrypted: 'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==',
};

test('encrypting the sample message gives WeChat\'s sample ciphertext; decrypting it gives the message and the appid', (t) => {
  const crypto = new MessageCrypto(SAMPLE.token, SAMPLE.encodingAesKey);
  t.is(crypto.encrypt(SAMPLE.message, SAMPLE.appid, Buffer.from(SAMPLE.random)), SAMPLE.encrypted);
  t.deepEqual(crypto.decrypt(SAMPLE.encrypted), { message: SAMPLE.message, appid: SAMPLE.appid });
});

test('msg_signature: SHA-1 of the sorted token, timestamp, nonce and ciphertext; anything else refused', (t) => {
  const crypto = new MessageCrypto(SAMPLE.token, SAMPLE.encodingAesKey);
  const signature = crypto.signature(SAMPLE.timestamp, SAMPLE.nonce, SAMPLE.encrypted);
  t.regex(signature, /^[0-9a-f]{40}$/);
  t.true(crypto.verify(signature, SAMPLE.timestamp, SAMPLE.nonce, SAMPLE.encrypted));
  t.false(crypto.verify(signature, SAMPLE.timestamp, 'yyyyyy', SAMPLE.encrypted));
  t.false(new MessageCrypto('other', SAMPLE.encodingAesKey).verify(signature, SAMPLE.timestamp, SAMPLE.nonce, SAMPLE.encrypted));
});

test('a ciphertext of another key, or not one at all, is refused with a typed error', (t) => {
  const other = new MessageCrypto(SAMPLE.token, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg');
  t.throws(() => other.decrypt(SAMPLE.encrypted), { instanceOf: WeChatMessageError });
  t.throws(() => other.decrypt('not base64 at all!'), { instanceOf: WeChatMessageError });
  t.throws(() => new MessageCrypto('t', 'short'), { instanceOf: WeChatMessageError });
});

// The push in the usage notes of Tencent's WXBizMsgCrypt samples (the same algorithm for an
// Official Account in safe mode, a third-party platform and WeCom): signature, time, nonce
// and body exactly as published.
const PUSH_SAMPLE = {
  token: 'QDG6eK',
  encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  appid: 'wx5823bf96d3bd56c7',
  query: { msg_signature: '477715d11cdb4164915debcba66cb864d751f3e6', timestamp: '1409659813', nonce: '1372623149' },
  encrypted: 'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
};

test('WeChat\'s published sample push: its msg_signature verifies, and it opens to the sample message', (t) => {
  const crypto = new MessageCrypto(PUSH_SAMPLE.token, PUSH_SAMPLE.encodingAesKey);
  const { query, encrypted } = PUSH_SAMPLE;
  t.is(crypto.signature(query.timestamp, query.nonce, encrypted), query.msg_signature);
  const body = `<xml><ToUserName><![CDATA[${PUSH_SAMPLE.appid}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`;
  const sentAt = Number(query.timestamp) * 1000;
  t.like(openPush(crypto, PUSH_SAMPLE.appid, query, body, sentAt).fields, { FromUserName: 'mycreate', MsgType: 'text', Content: 'hello', MsgId: '4561255354251345929' });
  t.throws(() => openPush(crypto, PUSH_SAMPLE.appid, { ...query, msg_signature: query.msg_signature.replace('4', '5') }, body, sentAt), { message: 'bad msg_signature' });
  t.throws(() => openPush(crypto, 'wx0ther00000000000', query, body, sentAt), { message: 'the message is for another appid' });
  t.throws(() => openPush(crypto, PUSH_SAMPLE.appid, query, body, sentAt + 3_600_000), { message: 'timestamp not recent' });
});

test('a passive reply in safe mode: a text message to the sender, encrypted and signed so that WeChat can open it', (t) => {
  const crypto = new MessageCrypto(SAMPLE.token, SAMPLE.encodingAesKey);
  const push = { ToUserName: 'gh_7f083739789a', FromUserName: 'oia2Tj', MsgType: 'event', Event: 'SCAN' };
  const xml = textReply(push, 'confirm: <a href="https://id.example/f/x">here</a> ]]> stays text', 1_407_743_423_000);
  const reply = xmlFields(encryptedReply(crypto, SAMPLE.appid, xml, 1_407_743_423_000));
  t.true(crypto.verify(reply.MsgSignature ?? '', reply.TimeStamp ?? '', reply.Nonce ?? '', reply.Encrypt ?? ''));
  const opened = crypto.decrypt(reply.Encrypt ?? '');
  t.is(opened.appid, SAMPLE.appid);
  t.deepEqual(xmlFields(opened.message), {
    ToUserName: 'oia2Tj', FromUserName: 'gh_7f083739789a', CreateTime: '1407743423', MsgType: 'text',
    Content: 'confirm: <a href="https://id.example/f/x">here</a> ]]> stays text',
  });
  t.is(encryptedReply(crypto, SAMPLE.appid, ACKNOWLEDGE), 'success', 'an acknowledgement stays plain, as WeChat accepts it');
});
