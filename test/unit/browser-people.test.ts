// The browser helper hands a closed person's page to the next person of the same device and
// language (a fresh context costs Chromium a renderer). The next person must be a stranger:
// nothing of the last one's cookies, storage, cache, pages, listeners, routes or size.

import test from 'ava';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchChromium, newPerson } from '../helpers/browser.ts';

let browser: Browser;
let server: Server;
let origin: string;
/** How many times the browser fetched the cacheable script (a cache hit does not reach the server). */
let scriptFetches = 0;

test.before(async () => {
  server = createServer((request, response) => {
    if (request.url === '/script.js') {
      scriptFetches += 1;
      response.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'max-age=3600' }).end('window.loaded = true;');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'who=alice; Path=/' })
      .end('<!doctype html><title>page</title><script src="/script.js"></script>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  server?.close();
});

test.serial('the next person of the same device and language gets the page back, with nothing of the last one', async (t) => {
  const alice = await newPerson(browser, 'desktop');
  await alice.page.goto(`${origin}/`);
  await alice.page.evaluate(() => { localStorage.setItem('who', 'alice'); sessionStorage.setItem('who', 'alice'); });
  await alice.page.setViewportSize({ width: 390, height: 844 });
  let heard = 0;
  alice.page.on('request', () => { heard += 1; });
  await alice.context.route('**/blocked', (route) => route.fulfill({ body: 'alice routed this' }));
  await (await alice.context.newPage()).goto(`${origin}/`);
  const fetchedByAlice = scriptFetches;
  await alice.context.close();
  const heardByAlice = heard;

  const bob = await newPerson(browser, 'desktop');
  t.is(bob.page, alice.page, 'the page is reused');
  t.deepEqual(await bob.context.cookies(), []);
  t.is(bob.context.pages().length, 1, 'alice\'s other page is closed');
  t.deepEqual(bob.page.viewportSize(), { width: 1280, height: 720 }, 'the default size again');
  await bob.page.goto(`${origin}/`);
  t.is(heard, heardByAlice, 'alice\'s listener is gone');
  t.is(scriptFetches, fetchedByAlice + 1, 'the cache is empty');
  t.deepEqual(await bob.page.evaluate(() => [localStorage.getItem('who'), sessionStorage.getItem('who')]), [null, null]);
  await bob.page.goto(`${origin}/blocked`);
  t.is(await bob.page.title(), 'page', 'alice\'s route is gone');
  await bob.context.close();
});

test.serial('another device or language gets a context of its own; a person closed twice is handed out once', async (t) => {
  const carol = await newPerson(browser, 'desktop');
  await carol.context.close();
  await carol.context.close();
  const [first, second, english] = [await newPerson(browser, 'desktop'), await newPerson(browser, 'desktop'), await newPerson(browser, 'desktop', 'en')];
  t.not(first.page, second.page);
  t.true([first.page, second.page].includes(carol.page));
  t.false([first.page, second.page].includes(english.page));
  t.is(await english.page.evaluate(() => navigator.language), 'en');
  await Promise.all([first.context.close(), second.context.close(), english.context.close()]);
});
