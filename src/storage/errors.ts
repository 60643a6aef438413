/**
 * Storage did not answer in time or refused: the request fails fast with a clear page or
 * a standard OAuth error, and the broker recovers by itself when storage is back.
 */
export class StorageUnavailableError extends Error {
  readonly code = 'STORAGE_UNAVAILABLE';
  readonly store: string;
  /** The store's operation that failed (`find Session`), when the failure was one operation's: which read or write the operator looks at. */
  readonly operation: string | undefined;

  constructor(store: string, cause: unknown, operation?: string) {
    super(`${store} is unavailable${operation ? ` (${operation})` : ''}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StorageUnavailableError';
    this.store = store;
    this.operation = operation;
  }
}

/**
 * Told of every storage call: which store, how long it took, whether it succeeded, and what
 * it was (the store's method, with the model for protocol records: `find Session`).
 */
export type StorageObserver = (store: string, seconds: number, ok: boolean, operation: string) => void;

/**
 * Runs one store's calls: times them for the observer (the broker's metrics), and turns
 * connection failures and timeouts into StorageUnavailableError.
 */
export class StorageGuard {
  readonly store: string;
  readonly #observe: StorageObserver | undefined;

  constructor(store: string, observe?: StorageObserver) {
    this.store = store;
    this.#observe = observe;
  }

  /** `operation`: what the call is, for the observer and a failure's error. `isAnswer`: errors that are the store's answer (a conflict), not a failure of storage. */
  async run<T>(operation: string, call: () => Promise<T>, isAnswer: (error: unknown) => boolean = () => false): Promise<T> {
    const started = performance.now();
    try {
      const result = await call();
      this.#observe?.(this.store, (performance.now() - started) / 1000, true, operation);
      return result;
    } catch (error) {
      const answer = isAnswer(error);
      this.#observe?.(this.store, (performance.now() - started) / 1000, answer, operation);
      if (answer || error instanceof StorageUnavailableError) throw error;
      throw new StorageUnavailableError(this.store, error, operation);
    }
  }
}
