// Tasks on one key taking turns within this process: the next waits for the one before (its
// failure included, which stays its own caller's), and the last in line clears the way, so
// nothing stays for a key nobody works on. Other instances are not held by it: what they
// write is the storage's to settle (a conditional write, read again).

export class Turns {
  readonly #running = new Map<string, Promise<void>>();

  /** `task` on `key` once this process's earlier ones on it are done. */
  run(key: string, task: () => Promise<void>): Promise<void> {
    const before = this.#running.get(key);
    const mine = (before ? before.catch(() => undefined) : Promise.resolve()).then(task);
    this.#running.set(key, mine);
    return mine.finally(() => {
      if (this.#running.get(key) === mine) this.#running.delete(key);
    });
  }

  /** Resolves once the tasks under way on `key` are done, whatever came of them. */
  async settled(key: string): Promise<void> {
    await this.#running.get(key)?.catch(() => undefined);
  }
}
