import test from 'ava';
import { sessionTtlS } from '../../src/oidc/session-lifetime.ts';

const HOUR = 3600;
const lifetimes = { idleS: 8 * HOUR, maxS: 10 * HOUR };
const login = 1_800_000_000;

test('each use renews the idle time, until what is left of the maximum is less', (t) => {
  t.is(sessionTtlS(lifetimes, { accountId: 'a', loginTs: login }, login), 8 * HOUR, 'at the login: the idle time');
  t.is(sessionTtlS(lifetimes, { accountId: 'a', loginTs: login }, login + HOUR), 8 * HOUR, 'used an hour later: renewed');
  t.is(sessionTtlS(lifetimes, { accountId: 'a', loginTs: login }, login + 3 * HOUR), 7 * HOUR, 'three hours later: only to the maximum');
  t.is(sessionTtlS(lifetimes, { accountId: 'a', loginTs: login }, login + 10 * HOUR - 1), 1);
  t.is(sessionTtlS(lifetimes, { accountId: 'a', loginTs: login + 3 * HOUR }, login + 3 * HOUR), 8 * HOUR, 'a new login starts the maximum again');
});

test('no maximum: the idle time, however long ago the login', (t) => {
  t.is(sessionTtlS({ idleS: 8 * HOUR, maxS: undefined }, { accountId: 'a', loginTs: login }, login + 1000 * HOUR), 8 * HOUR);
});

test('a session nobody logged in to (a logout\'s confirmation) lives ten minutes', (t) => {
  t.is(sessionTtlS(lifetimes, {}, login), 600);
});
