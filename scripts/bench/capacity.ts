// What one server holds at a latency target (issue 27: the p99 of a complete login under
// 150 ms): the highest paced rate at which the p99 stays within it, found by bisection
// between nothing and the server's peak (its closed-loop throughput). One search per
// server, stepped from outside so that the bench can alternate the servers' rounds.

/** One rate tried: the p99 measured there and whether that is within the target. */
export interface Step {
  readonly rate: number;
  readonly p99Ms: number;
  readonly held: boolean;
}

export class Bisection {
  readonly #targetMs: number;
  #left: number;
  /** The highest rate held so far (0: none yet), and the lowest that was not (the peak until one fails). */
  #low = 0;
  #high: number;
  readonly #steps: Step[] = [];

  constructor(peak: number, targetMs: number, steps: number) {
    if (!(peak > 0) || !(targetMs > 0) || !Number.isInteger(steps) || steps < 1) throw new RangeError('a bisection needs a peak and a target above 0 and at least one step');
    [this.#high, this.#targetMs, this.#left] = [peak, targetMs, steps];
  }

  /** The next rate to try (the middle of what is still unknown), or undefined when the steps are spent. */
  next(): number | undefined {
    return this.#left > 0 ? (this.#low + this.#high) / 2 : undefined;
  }

  /** What `rate` (the one next() gave) measured. */
  record(rate: number, p99Ms: number): void {
    if (this.#left === 0) throw new RangeError('every step of this bisection has been measured');
    // A round with no login done has no p99 (NaN): that rate is not held.
    const held = p99Ms <= this.#targetMs;
    if (held) this.#low = rate;
    else this.#high = rate;
    this.#left -= 1;
    this.#steps.push({ rate, p99Ms, held });
  }

  /** The highest rate tried that held the target; undefined when none did. */
  get holds(): number | undefined {
    return this.#low > 0 ? this.#low : undefined;
  }

  /** The p99 measured at `holds`. */
  get p99AtHolds(): number | undefined {
    return this.#steps.find((step) => step.held && step.rate === this.#low)?.p99Ms;
  }

  get steps(): readonly Step[] {
    return this.#steps;
  }
}
