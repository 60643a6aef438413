// Follow-to-login's scenes over the shared storage: a scan counts only for a live scene of
// its account, only once, and only while the scene is its interaction's current QR code;
// it logs nobody in until the scanner answers through its link; which events are scans.

import test from 'ava';
import { FollowScenes } from '../../src/upstreams/wechat-follow/follow-scenes.ts';
import { sceneOf } from '../../src/upstreams/wechat-follow/follow-events.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { raceStores } from '../helpers/race-stores.ts';

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

const viewer = { browser: 'Chrome · Windows', lang: 'en' };
const scanOf = (outcome: Awaited<ReturnType<FollowScenes['scanned']>>) => ('scan' in outcome ? outcome.scan : undefined);

test('the first scan of a live scene of its account counts, once; a fresh QR code makes the old one\'s scans void', async (t) => {
  const scenes = new FollowScenes(storage);
  const first = FollowScenes.fresh();
  await scenes.open(first, 'uid-1', 'brand', 60, { ...viewer, url: 'https://wechat.example/q/1' });
  t.deepEqual(await scenes.shown('uid-1', 'brand'), { url: 'https://wechat.example/q/1' }, 'a reload shows the same code');
  t.is(await scenes.shown('uid-1', 'shop'), undefined, 'another account\'s page needs its own');
  t.is(await scenes.state('uid-1'), 'waiting');
  t.like(await scenes.scanned(first, 'other-account', 'oX'), { outcome: 'unknown' }, 'another account\'s event');
  t.like(await scenes.scanned('no-such-scene', 'brand', 'oX'), { outcome: 'unknown' });
  t.like(await scenes.scanned('bad scene!', 'brand', 'oX'), { outcome: 'unknown' });
  const second = FollowScenes.fresh();
  await scenes.open(second, 'uid-1', 'brand', 60, { ...viewer, url: 'https://wechat.example/q/2' });
  t.like(await scenes.scanned(first, 'brand', 'oStale'), { outcome: 'recorded' }, 'WeChat reports it, but…');
  t.is(await scenes.state('uid-1'), 'waiting', '…the page shows the fresh QR code, so the old one\'s scan does not count');
  const recorded = scanOf(await scenes.scanned(second, 'brand', 'oFirst'));
  t.like(recorded, { uid: 'uid-1', app: 'brand', openid: 'oFirst', status: 'scanned', browser: 'Chrome · Windows', lang: 'en' });
  t.like(await scenes.scanned(second, 'brand', 'oFirst'), { outcome: 'again', scan: { link: recorded?.link } }, 'the same scanner again: the same link');
  t.like(await scenes.scanned(second, 'brand', 'oSecond'), { outcome: 'taken' }, 'someone else: nothing');
  t.is(await scenes.state('uid-1'), 'scanned');
  t.is(await scenes.state('uid-2'), 'expired', 'another interaction has no scene');
  t.is(await scenes.take('uid-1'), undefined, 'a scan alone logs nobody in');
  t.like(await scenes.byLink(recorded!.link), { openid: 'oFirst', status: 'scanned' });
  t.is(await scenes.byLink('x'.repeat(32)), undefined);
  t.true(await scenes.answer(recorded!, 'confirmed'));
  t.false(await scenes.answer(recorded!, 'declined'), 'answered once');
  t.is(await scenes.state('uid-1'), 'confirmed');
  t.like(await scenes.take('uid-1'), { app: 'brand', openid: 'oFirst', status: 'confirmed' });
  t.is(await scenes.take('uid-1'), undefined, 'taken once');
});

test('a declined scan is taken as declined', async (t) => {
  const scenes = new FollowScenes(storage);
  const scene = FollowScenes.fresh();
  await scenes.open(scene, 'uid-3', 'brand', 60, { ...viewer, url: 'https://wechat.example/q/3' });
  const scan = scanOf(await scenes.scanned(scene, 'brand', 'oA'));
  t.true(await scenes.answer(scan!, 'declined'));
  t.is(await scenes.state('uid-3'), 'declined');
  t.like(await scenes.take('uid-3'), { status: 'declined' });
});

for (const [name, store] of raceStores(test)) {
  test(`${name}: a confirm and a decline at once (two tabs of the link): exactly one counts, and the scan is what that one said`, async (t) => {
    const scenes = new FollowScenes(store());
    const scene = FollowScenes.fresh();
    await scenes.open(scene, 'uid-4', 'brand', 60, { ...viewer, url: 'https://wechat.example/q/4' });
    const scan = scanOf(await scenes.scanned(scene, 'brand', 'oA'))!;
    const [confirmed, declined] = await Promise.all([scenes.answer(scan, 'confirmed'), scenes.answer(scan, 'declined')]);
    t.true(confirmed !== declined, 'one answer counts, the other is told the link was used');
    t.is(await scenes.state('uid-4'), confirmed ? 'confirmed' : 'declined');
  });
}
