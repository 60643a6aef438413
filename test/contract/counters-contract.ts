// The rate-limit counters every store passes (memory, Redis, Redis Cluster).

import type { TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import type { Counters } from '../../src/storage/counters.ts';

export function countersContract(test: TestFn, backend: string, counters: () => Counters): void {
  test(`${backend} counters: hits count up within a window, keys apart, and the window's end is told`, async (t) => {
    const key = randomUUID();
    const hits = [];
    for (let i = 0; i < 3; i += 1) hits.push(await counters().hit(key, 60));
    t.deepEqual(hits.map((hit) => hit.count), [1, 2, 3]);
    t.true(hits.every((hit) => hit.resetInS > 0 && hit.resetInS <= 60));
    t.is((await counters().hit(randomUUID(), 60)).count, 1);
  });

  test(`${backend} counters: concurrent hits are all counted`, async (t) => {
    const key = randomUUID();
    const hits = await Promise.all(Array.from({ length: 20 }, () => counters().hit(key, 60)));
    t.deepEqual(hits.map((hit) => hit.count).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
  });

  test(`${backend} counters: a count reads a key's hits without adding one; a key never hit counts 0`, async (t) => {
    const key = randomUUID();
    t.like(await counters().count(key), { count: 0 });
    await counters().hit(key, 60);
    await counters().hit(key, 60);
    const counted = await counters().count(key);
    t.is(counted.count, 2);
    t.true(counted.resetInS > 0 && counted.resetInS <= 60);
    t.is((await counters().count(key)).count, 2, 'counting added nothing');
  });
}
