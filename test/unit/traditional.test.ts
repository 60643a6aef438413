// Traditional Chinese as Taiwanese readers write it: the zh-TW catalogue has no Simplified
// character and none of the conversion leftovers OpenCC's table produces; a client named only
// in Simplified Chinese is shown converted on zh-TW pages, before any English name.

import test from 'ava';
import { clientDisplay } from '../../src/oidc/client-display.ts';
import { brandName, type Brand } from '../../src/pages/brand.ts';
import { catalogue } from '../../src/pages/i18n.ts';
import { TAIWAN_FORMS, toTraditional } from '../../src/pages/traditional.ts';

/** Characters that exist only in Simplified Chinese (their Traditional forms differ), common in UI text. */
const SIMPLIFIED_ONLY = [...'们这说时会对发过国开还体东长门问间关头见实现点务户码录据设显权网页为话认证钮选择确与个专业么义书买乱产亲从价众优传侧储'
  + '兴养写军决况净减则刚创删别办动劳势区医华协单卖历压县参双发变号听启员响团园围图场块坚声处备复够学宁宝审导将层岁师帐带帮应异张归当'
  + '彻忆态总战扫护报换数断无术机杀杂条来极构标样档检楼欢气汇没测济温满灭灯热爱独电画疗离种积称稳穷竞笔签简类紧纠红约级纪纯纳线练组细'
  + '终经结给络统继续维编缩罗职联肤脑节范药获营虑虽补装观规视览觉计订让议记讲许论访评识诉词试该详语误请读课谁调谈谢负败货质购费资赖赞'
  + '赶车轮软载较辑输边达运进远违连递逻遗邮释针钟钱铁银链销锁错键闭闻阅队阳阴际陆险随隐难项顺须顾预领频题颜风飞饭验马鱼鸟齐龙账'];

test('the zh-TW catalogue has no Simplified character and no conversion leftover', (t) => {
  const found = Object.entries(catalogue('zh-TW')).flatMap(([key, text]) => [
    ...[...text].filter((character) => SIMPLIFIED_ONLY.includes(character)).map((character) => `${key}: ${character}`),
    ...TAIWAN_FORMS.filter(([leftover]) => text.includes(leftover)).map(([leftover, wanted]) => `${key}: ${leftover} (write ${wanted})`),
  ]);
  t.deepEqual(found, []);
  t.true(SIMPLIFIED_ONLY.some((character) => Object.values(catalogue('zh-CN')).join('').includes(character)), 'the list does catch Simplified text');
});

test('Simplified text converts to Taiwan\'s forms: 帳號, QR Code, 「」', (t) => {
  t.is(toTraditional('云杉商城的“账号”和二维码'), '雲杉商城的「帳號」和QR Code');
});

test('a client named only in Simplified Chinese is shown converted on zh-TW pages, before its English name', (t) => {
  const client = {
    clientId: 'shop', clientName: 'Cloud Shop', 'client_name#zh-CN': '云杉商城', 'client_name#en': 'Cloud Shop',
    policyUri: 'https://shop.example/en/privacy', 'policy_uri#zh-CN': 'https://shop.example/zh/privacy',
  } as never;
  t.is(clientDisplay(client, 'zh-TW').name, '雲杉商城');
  t.is(clientDisplay(client, 'zh-TW').policy, 'https://shop.example/zh/privacy', 'the Chinese document before the English one');
  t.is(clientDisplay(client, 'zh-CN').name, '云杉商城');
  t.is(clientDisplay(client, 'en').name, 'Cloud Shop');
  t.is(clientDisplay({ ...client as object, 'client_name#zh-TW': '雲杉購物' } as never, 'zh-TW').name, '雲杉購物', 'its own zh-TW name first');
});

test('the company\'s name on each page: its own English or Traditional name where set, else BRAND_NAME (converted for zh-TW)', (t) => {
  const brand = { name: '云杉科技', names: {} } as unknown as Brand;
  t.deepEqual(['zh-CN', 'zh-TW', 'en'].map((lang) => brandName(brand, lang as 'zh-CN')), ['云杉科技', '雲杉科技', '云杉科技']);
  const named = { ...brand, names: { en: 'Spruce Tech', 'zh-TW': '雲杉資訊' } } as Brand;
  t.deepEqual(['zh-CN', 'zh-TW', 'en'].map((lang) => brandName(named, lang as 'zh-CN')), ['云杉科技', '雲杉資訊', 'Spruce Tech']);
});
