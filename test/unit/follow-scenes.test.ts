// Follow-to-login's scenes over the shared storage: a scan counts only for a live scene of
// its account, only once, and only while the scene is its interaction's current QR code;
// which events are scans at all.

import test from 'ava';
import { FollowScenes } from '../../src/login/follow-scenes.ts';
import { sceneOf } from '../../src/login/follow-events.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';

const storage = new MemoryStorage();
test.after.always(() => storage.close());

test('subscribe with qrscene_, and SCAN, name a scene; any other message or event does not', (t) => {
  t.is(sceneOf({ MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_abc' }), 'abc');
  t.is(sceneOf({ MsgType: 'event', Event: 'SCAN', EventKey: 'abc' }), 'abc');
  t.is(sceneOf({ MsgType: 'event', Event: 'subscribe', EventKey: '' }), undefined, 'a plain follow, not from a QR code');
  t.is(sceneOf({ MsgType: 'event', Event: 'subscribe', EventKey: 'abc' }), undefined);
  t.is(sceneOf({ MsgType: 'event', Event: 'unsubscribe', EventKey: 'abc' }), undefined);
  t.is(sceneOf({ MsgType: 'text', Content: 'qrscene_abc' }), undefined);
});

test('the first scan of a live scene of its account counts, once; a fresh QR code makes the old one\'s scans void', async (t) => {
  const scenes = new FollowScenes(storage);
  const first = await scenes.open('uid-1', 'brand', 60);
  t.is(await scenes.state('uid-1'), 'waiting');
  t.is(await scenes.scanned(first, 'other-account', 'oX'), 'unknown', 'another account\'s event');
  t.is(await scenes.scanned('no-such-scene', 'brand', 'oX'), 'unknown');
  t.is(await scenes.scanned('bad scene!', 'brand', 'oX'), 'unknown');
  const second = await scenes.open('uid-1', 'brand', 60);
  t.is(await scenes.scanned(first, 'brand', 'oStale'), 'recorded', 'WeChat reports it, but…');
  t.is(await scenes.state('uid-1'), 'waiting', '…the page shows the fresh QR code, so the old one\'s scan does not count');
  t.is(await scenes.scanned(second, 'brand', 'oFirst'), 'recorded');
  t.is(await scenes.scanned(second, 'brand', 'oSecond'), 'again');
  t.is(await scenes.state('uid-1'), 'scanned');
  t.is(await scenes.state('uid-2'), 'expired', 'another interaction has no scene');
  t.deepEqual(await scenes.take('uid-1'), { app: 'brand', openid: 'oFirst' });
  t.is(await scenes.take('uid-1'), undefined, 'taken once');
});
