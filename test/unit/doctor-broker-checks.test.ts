// The doctor's lines about the broker's own side, each ✗ from a configuration that has it:
// an http ISSUER (and a loopback one, a "?"), a clock WeChat's Date header disagrees with,
// WeChat's API host unreachable (a "?" naming why), a weak signing key, a signing key older than a year, an http redirect URI, a console operator who is no account. Real HTTP for the clock: a server that sends
// the Date it is told to.

import test from 'ava';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK } from 'jose';
import { brokerChecks } from '../../src/diagnostics/broker-checks.ts';
import { runChecks, type Finding } from '../../src/diagnostics/findings.ts';
import { generateSigningKeys } from '../../src/config/keys.ts';
import { operatorsCheck } from '../../src/diagnostics/console-checks.ts';
import { ANY_OPERATOR } from '../../src/config/config.ts';
import { freePort } from '../helpers/ports.ts';

/** A stand-in for WeChat's API host whose Date header is `skewS` seconds off. */
async function wechatWithDate(skewS: number) {
  const server = createServer((_req, res) => { res.setHeader('date', new Date(Date.now() + skewS * 1000).toUTCString()); res.end(); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function findings(over: { issuer?: string; skewS?: number; apiUrl?: string; keys?: { keys: object[] }; redirect?: string }): Promise<Finding[]> {
  const wechat = await wechatWithDate(over.skewS ?? 0);
  try {
    return await runChecks(brokerChecks({
      issuer: over.issuer ?? 'https://login.example.com', keys: (over.keys ?? await generateSigningKeys()) as never, cookieKeys: ['k'.repeat(64)],
      wechat: { apiUrl: over.apiUrl ?? wechat.url, timeoutMs: 5000 } as never,
      clients: [{ client_id: 'shop', redirect_uris: [over.redirect ?? 'https://shop.example/cb'] }],
    }));
  } finally {
    await wechat.close();
  }
}

const verdict = (all: Finding[], check: string) => all.find((finding) => finding.check === check)?.verdict;

test('everything right: ✓ for the issuer, the clock, the keys and the redirect URIs', async (t) => {
  const all = await findings({});
  t.deepEqual(all.map((finding) => finding.verdict), all.map(() => 'ok'));
  t.regex(all.find((finding) => finding.check === 'issuer')!.detail, /register login\.example\.com as the callback domain/);
});

test('an http ISSUER: ✗ (a loopback one is a "?": fine on this machine, not for WeChat)', async (t) => {
  t.is(verdict(await findings({ issuer: 'http://login.example.com' }), 'issuer'), 'fail');
  t.is(verdict(await findings({ issuer: 'http://localhost:3000' }), 'issuer'), 'unknown');
});

test('a clock ten minutes off WeChat\'s: ✗ with NTP as the fix; a few seconds: ✓', async (t) => {
  const off = (await findings({ skewS: -600 })).find((finding) => finding.check === 'clock')!;
  t.is(off.verdict, 'fail');
  t.regex(off.detail, /ahead of WeChat's/);
  t.regex(off.advice!.en, /NTP/);
  t.is(verdict(await findings({ skewS: 3 }), 'clock'), 'ok');
});

test('WeChat\'s API host unreachable: a "?" for the clock that names the host and the network\'s reason, and what to open', async (t) => {
  const apiUrl = `http://127.0.0.1:${await freePort()}`;
  const clock = (await findings({ apiUrl })).find((finding) => finding.check === 'clock')!;
  t.is(clock.verdict, 'unknown');
  t.is(clock.detail, `${apiUrl} cannot be reached (ECONNREFUSED): the clock is not compared`);
  t.regex(clock.advice!.en, /must reach http:\/\/127\.0\.0\.1:\d+ over HTTPS \(DNS, firewall, outbound proxy\): every call to WeChat goes there/);
  t.regex(clock.advice!.zh, /防火墙/);
});

test('an RSA signing key under 2048 bits: ✗; an http redirect URI (not loopback): ✗', async (t) => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const weak = { keys: [{ ...await exportJWK(privateKey), kid: 'weak', alg: 'RS256', use: 'sig' }] };
  t.is(verdict(await findings({ keys: weak }), 'signing-keys'), 'fail');
  t.is(verdict(await findings({ redirect: 'http://shop.example/cb' }), 'redirect-uris'), 'fail');
  t.is(verdict(await findings({ redirect: 'http://127.0.0.1:8080/cb' }), 'redirect-uris'), 'ok');
});

test('a signing key made more than a year ago: ✗ with the rotation; a key without iat (made elsewhere): "?"; a published key that no longer signs is not judged', async (t) => {
  const [rsa, ec] = (await generateSigningKeys()).keys as [Record<string, unknown>, Record<string, unknown>];
  const yearsAgo = Math.floor(Date.now() / 1000) - 400 * 86_400;
  const old = (await findings({ keys: { keys: [{ ...rsa, iat: yearsAgo }, ec] } })).filter((finding) => finding.check === 'key-age');
  t.deepEqual(old.map((finding) => finding.verdict), ['fail', 'ok']);
  t.regex(old[0]!.detail, /made 400 days ago/);
  t.regex(old[0]!.advice!.en, /npm run keys -- add/);
  const { iat: _made, ...unknownAge } = rsa;
  t.is(verdict(await findings({ keys: { keys: [unknownAge, ec] } }), 'key-age'), 'unknown');
  const rotated = await findings({ keys: { keys: [rsa, { ...rsa, kid: 'old', iat: yearsAgo }, ec] } });
  t.deepEqual(rotated.filter((finding) => finding.check === 'key-age').map((finding) => finding.verdict), ['ok', 'ok'], 'the old key is only published');
});

test('the console\'s operators: each sub an account\'s as it is now; a typo or a merged-away sub fails, with how to find the right one; dev mode\'s anyone is no sub', async (t) => {
  const accounts = new Map([['3f2c', { id: '3f2c' }], ['old-sub', { id: '3f2c' }]]);
  const findings = await operatorsCheck(new Map([['3f2c', 'write'], ['old-sub', 'read'], ['typo', 'read'], [ANY_OPERATOR, 'write']]), { findById: async (sub) => accounts.get(sub) }).run();
  t.deepEqual(findings.map((finding) => [finding.subject, finding.verdict]), [['3f2c', 'ok'], ['old-sub', 'fail'], ['typo', 'fail']]);
  t.regex(findings[1]!.detail, /merged into 3f2c/);
  t.regex(findings[2]!.detail, /no account has this sub/);
  t.regex(findings[2]!.advice!.en, /open \/console and log in/);
});
