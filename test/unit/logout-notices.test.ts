// Back-channel logout deliveries (issue: account administration): queued, retried a
// bounded number of times against a relying party that keeps failing, every failure
// logged, then given up; nothing for a client that registered no logout URI, or one that
// requires a sid when there is no session (Back-Channel Logout 1.0, section 2.2).

import test from 'ava';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type Provider from 'oidc-provider';
import { createLogger } from '../../src/log.ts';
import { LogoutNotices, type NoticeOutcome } from '../../src/oidc/logout-notices.ts';

test('a relying party that keeps failing: tried four times in all, each failure logged, then given up', async (t) => {
  let hits = 0;
  const server = createServer((_req, res) => { hits += 1; res.writeHead(500).end(); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/logout`;
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('info', new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } }));
  const outcomes: NoticeOutcome[] = [];
  const notices = new LogoutNotices(log, (outcome) => outcomes.push(outcome), [0, 10, 10, 10]);
  const deliver = async () => {
    const response = await fetch(uri, { method: 'POST' });
    if (response.status !== 200 && response.status !== 204) throw new Error(`expected 200 OK from ${uri}, got: ${response.status}`);
  };
  notices.send({ clientId: 'rp', backchannelLogoutUri: uri, backchannelLogout: deliver }, 'sub-1', 'sid-1');
  notices.send({ clientId: 'quiet', backchannelLogout: deliver }, 'sub-1', 'sid-1');
  notices.send({ clientId: 'strict', backchannelLogoutUri: uri, backchannelLogoutSessionRequired: true, backchannelLogout: deliver }, 'sub-1', undefined);
  await notices.settled();
  t.is(hits, 4, 'four attempts, for the one client that can be told');
  t.deepEqual(outcomes, ['retrying', 'retrying', 'retrying', 'failed']);
  t.is(lines.filter((line) => line.msg === 'back-channel logout not delivered: will try again' && line.client === 'rp').length, 3);
  t.like(lines.find((line) => line.msg === 'back-channel logout not delivered: given up'), { client: 'rp', attempt: 4, level: 40 });
  t.false(JSON.stringify(lines).includes('sub-1'), 'the log names the client, not the person');
});

test('a client of a provider taken over is told once: the attempt is oidc-provider\'s own delivery, not the method that queues it again', async (t) => {
  let posts = 0;
  class Client {
    clientId = 'rp';
    backchannelLogoutUri = 'http://rp.example/logout';
    async backchannelLogout(): Promise<void> { posts += 1; }
  }
  const outcomes: NoticeOutcome[] = [];
  const notices = new LogoutNotices(createLogger('silent'), (outcome) => outcomes.push(outcome), [0]);
  notices.takeOver({ Client } as unknown as Provider);
  // As an erasure sends it (account-records.ts), to a client oidc-provider found.
  notices.send(new Client(), 'sub-1', 'sid-1');
  await notices.settled();
  t.is(posts, 1);
  t.deepEqual(outcomes, ['delivered'], 'one delivery counted, the one made');
});
