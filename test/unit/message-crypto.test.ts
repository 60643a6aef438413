// WeChat's message crypto against the sample values Tencent publishes with its
// WXBizMsgCrypt libraries (the Java sample's test), not only a round trip.

import test from 'ava';
import { MessageCrypto, WeChatMessageError } from '../../src/wechat/message-crypto.ts';

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
