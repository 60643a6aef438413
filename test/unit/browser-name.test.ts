import test from 'ava';
import fc from 'fast-check';
import { browserName, isBrowserName } from '../../src/http/browser-name.ts';
import { browserOnPage } from '../../src/pages/i18n.ts';

test('browsers in words a person recognizes', (t) => {
  t.is(browserName('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/156.0 Mobile Safari/537.36'), 'Chrome · Android');
  t.is(browserName('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1'), 'Safari · iOS');
  // The desktop a follow-to-login scanner is asked about.
  t.is(browserName('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36'), 'Chrome · Windows');
  t.is(browserName('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15'), 'Safari · macOS');
  t.is(browserName('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36 Edg/156.0'), 'Edge · Windows');
});

test('WeChat\'s and WeCom\'s own browsers, which also say Chrome and Safari, by their names', (t) => {
  t.is(browserName('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN'), 'WeChat · iOS');
  t.is(browserName('Mozilla/5.0 (Linux; Android 14; V2309A Build/UP1A; wv) AppleWebKit/537.36 Chrome/122.0 Mobile Safari/537.36 XWEB/1220099 MMWEBSDK/20240301 MicroMessenger/8.0.48.2580(0x28003035) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64'), 'WeChat · Android');
  t.is(browserName('Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 Chrome/81.0 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x63090a13)'), 'WeChat · Windows');
  t.is(browserName('Mozilla/5.0 (Linux; Android 13; HarmonyOS; NOH-AN00) AppleWebKit/537.36 Chrome/99.0 Mobile Safari/537.36 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh ColorScheme/Light'), 'WeCom · HarmonyOS');
});

test('a browser of no known name says only what it is known to be', (t) => {
  t.is(browserName('curl/8.5.0'), 'browser');
  t.is(browserName(''), 'browser');
  t.is(browserName('Mozilla/5.0 (X11; Linux x86_64) SomethingNew/1.0'), 'browser · Linux');
});

test('only its fixed words are ever kept, never what the User-Agent says', (t) => {
  const words = /^(WeCom|WeChat|Edge|Firefox|UC|QQ|Huawei|Chrome|Safari|browser)( · (HarmonyOS|Android|iOS|Windows|macOS|ChromeOS|Linux))?$/;
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (userAgent) => words.test(browserName(userAgent))));
  t.pass();
});

test('a name from elsewhere (a dump) is taken when shaped as these names, whatever their words; a User-Agent never', (t) => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (userAgent) => isBrowserName(browserName(userAgent))));
  t.true(isBrowserName('Opera · Android'), 'a word another version may have');
  for (const text of ['Mozilla/5.0 (Linux; Android 14)', 'Chrome · Android · x', 'Chrome·Android', '', 'Chrome 156 · Android', '<b>Chrome</b>']) t.false(isBrowserName(text), text);
});

test('the pages put the names that are words in the person\'s language', (t) => {
  t.is(browserOnPage('zh-CN', 'WeChat · iOS'), '微信 · iOS');
  t.is(browserOnPage('zh-TW', 'WeCom · Windows'), '企業微信 · Windows');
  t.is(browserOnPage('zh-CN', 'browser · Linux'), '浏览器 · Linux');
  t.is(browserOnPage('en', 'QQ · Android'), 'QQ Browser · Android');
  t.is(browserOnPage('zh-CN', 'Chrome · Android'), 'Chrome · Android');
  t.is(browserOnPage('en', 'browser'), 'a browser');
});
