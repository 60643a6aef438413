/**
 * Storage did not answer in time or refused: the request fails fast with a clear page or
 * a standard OAuth error, and the broker recovers by itself when storage is back.
 */
export class StorageUnavailableError extends Error {
  readonly code = 'STORAGE_UNAVAILABLE';
  readonly store: string;

  constructor(store: string, cause: unknown) {
    super(`${store} is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StorageUnavailableError';
    this.store = store;
  }
}

export type StorageObserver = (store: string, seconds: number, ok: boolean) => void;

let observer: StorageObserver | undefined;

/** Where storage latency and failures are reported (the broker's metrics). */
export function observeStorage(next: StorageObserver | undefined): void {
  observer = next;
}

/** Runs a storage call, turning connection failures and timeouts into StorageUnavailableError. */
export async function guarded<T>(store: string, call: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const result = await call();
    observer?.(store, (performance.now() - started) / 1000, true);
    return result;
  } catch (error) {
    observer?.(store, (performance.now() - started) / 1000, false);
    if (error instanceof StorageUnavailableError) throw error;
    throw new StorageUnavailableError(store, error);
  }
}
