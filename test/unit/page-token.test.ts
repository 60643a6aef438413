// The token that ties a person's form to the page the broker showed them.

import test from 'ava';
import { PAGE_TOKEN_LIFE_S, PageTokens } from '../../src/http/page-token.ts';

const browser = PageTokens.browserId();

test('good for the browser and the form it was shown for, whatever the case of the path or a full URL', (t) => {
  const tokens = new PageTokens(['key-one']);
  const token = tokens.issue(browser, '/h/AbCdEf2345/confirm');
  t.true(tokens.valid(token, browser, '/h/AbCdEf2345/confirm'));
  t.true(tokens.valid(token, browser, '/H/abcdef2345/CONFIRM'), 'the router matches paths without regard to case');
  t.true(new PageTokens(['key-one']).valid(tokens.issue(browser, 'https://login.example.com/account/delete'), browser, '/account/delete'));
  t.not(tokens.issue(browser, '/account/delete'), tokens.issue(browser, '/account/delete'), 'each page view its own');
});

test('refused: another browser, another form, a tampered or malformed token, another key', (t) => {
  const tokens = new PageTokens(['key-one']);
  const token = tokens.issue(browser, '/h/AbCdEf2345/confirm');
  t.false(tokens.valid(token, PageTokens.browserId(), '/h/AbCdEf2345/confirm'), 'another browser');
  t.false(tokens.valid(token, browser, '/h/AbCdEf2345/decline'), 'another form');
  t.false(tokens.valid(token, browser, '/h/ZZZZZZ2345/confirm'), 'another hand-off');
  t.false(tokens.valid(`${token}x`, browser, '/h/AbCdEf2345/confirm'), 'tampered');
  for (const bad of ['', 'a.b', 'a.b.c.d', '!!.b.c', `zzzzzzzzzzz.${token.split('.').slice(1).join('.')}`]) t.false(tokens.valid(bad, browser, '/x'), bad);
  t.false(new PageTokens(['key-two']).valid(token, browser, '/h/AbCdEf2345/confirm'), 'signed with a key the broker does not hold');
});

test('a rotated key still verifies what the old one signed; a token older than its life does not', (t) => {
  let now = Date.now();
  const old = new PageTokens(['key-one'], () => now);
  const token = old.issue(browser, '/account/delete');
  const rotated = new PageTokens(['key-two', 'key-one'], () => now);
  t.true(rotated.valid(token, browser, '/account/delete'));
  now += (PAGE_TOKEN_LIFE_S + 1) * 1000;
  t.false(rotated.valid(token, browser, '/account/delete'));
});
