// A circuit breaker for WeChat's API: after `failures` calls in a row in which WeChat was
// unavailable (busy, timing out, answering garbage), the next calls fail at once for
// `openMs` instead of each waiting out a timeout; then one call at a time probes, and the
// first that WeChat answers closes the circuit again.

export interface BreakerOptions {
  readonly failures: number;
  readonly openMs: number;
  readonly now?: () => number;
}

export class CircuitBreaker {
  readonly #options: Required<BreakerOptions>;
  #failures = 0;
  #openUntil = 0;
  #probing = false;

  constructor(options: BreakerOptions) {
    this.#options = { now: Date.now, ...options };
  }

  /** Whether WeChat is thought to answer (closed, or due for a probe). */
  get closed(): boolean {
    return this.#failures < this.#options.failures || this.#options.now() >= this.#openUntil;
  }

  /** Whether a call may go out now; when open and due, one probe at a time may. */
  allow(): boolean {
    if (this.#failures < this.#options.failures) return true;
    if (this.#options.now() < this.#openUntil || this.#probing) return false;
    this.#probing = true;
    return true;
  }

  /** WeChat answered (even with an errcode about the request). */
  succeeded(): void {
    this.#failures = 0;
    this.#probing = false;
  }

  /** WeChat was unavailable. */
  failed(): void {
    this.#failures += 1;
    this.#probing = false;
    if (this.#failures >= this.#options.failures) this.#openUntil = this.#options.now() + this.#options.openMs;
  }
}
