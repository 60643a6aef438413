// The bench's capacity search (scripts/bench/capacity.ts): what one server holds at the p99
// target, by bisection between nothing and its peak. Here against servers whose p99 is a
// function of the rate (no time is measured): the rate found is the highest the server
// holds, to the peak ÷ 2^steps, and never one it does not.

import test from 'ava';
import fc from 'fast-check';
import { Bisection } from '../../scripts/bench/capacity.ts';

/** Runs a bisection against a server whose p99 at a rate is `p99At(rate)`. */
function search(peak: number, targetMs: number, steps: number, p99At: (rate: number) => number): Bisection {
  const bisection = new Bisection(peak, targetMs, steps);
  for (let rate = bisection.next(); rate !== undefined; rate = bisection.next()) bisection.record(rate, p99At(rate));
  return bisection;
}

test('a server that holds the target up to some rate: the rate found is at most that, and within peak ÷ 2^steps of it', (t) => {
  t.notThrows(() => fc.assert(fc.property(
    fc.double({ min: 1, max: 5000, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 12 }),
    (peak, fraction, steps) => {
      const limit = peak * fraction;
      const found = search(peak, 150, steps, (rate) => (rate <= limit ? 100 : 400));
      // The last interval's width, with room for floating point's last bit.
      const resolution = (peak / 2 ** steps) * (1 + 1e-9);
      if (found.steps.length !== steps) return false;
      if (found.holds === undefined) return limit < resolution;
      return found.holds <= limit && limit - found.holds <= resolution && found.p99AtHolds === 100;
    },
  )));
});

test('the steps halve what is unknown, and say what each rate measured', (t) => {
  const found = search(400, 150, 3, (rate) => rate / 2);
  t.deepEqual(found.steps, [
    { rate: 200, p99Ms: 100, held: true },
    { rate: 300, p99Ms: 150, held: true },
    { rate: 350, p99Ms: 175, held: false },
  ]);
  t.is(found.holds, 300);
  t.is(found.p99AtHolds, 150);
});

test('a server that holds nothing, and a round with no login finished (no p99): nothing held', (t) => {
  t.is(search(100, 150, 4, () => 1000).holds, undefined);
  const none = search(100, 150, 2, () => Number.NaN);
  t.is(none.holds, undefined);
  t.true(none.steps.every((step) => !step.held));
});

test('a search without a peak, a target or a step, or recorded past its steps: refused', (t) => {
  t.throws(() => new Bisection(0, 150, 3), { instanceOf: RangeError });
  t.throws(() => new Bisection(Number.NaN, 150, 3), { instanceOf: RangeError });
  t.throws(() => new Bisection(100, 0, 3), { instanceOf: RangeError });
  t.throws(() => new Bisection(100, 150, 0), { instanceOf: RangeError });
  const done = search(100, 150, 1, () => 10);
  t.is(done.next(), undefined);
  t.throws(() => done.record(75, 10), { instanceOf: RangeError });
});
