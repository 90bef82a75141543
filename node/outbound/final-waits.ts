/**
 * Requests waiting for an outbound message's final status (delivered, rejected, expired), keyed by the
 * message's seq: `GET /v1/messages/{id}?wait=` and `POST /v1/messages` with `Prefer: wait=` hold their
 * answer on it. A final status wakes only the requests waiting for that message, in one map lookup however
 * many are waiting (an EventEmitter would call every waiter for every message, and warns of a leak past ten).
 */
export class FinalWaits {
  private readonly waiting = new Map<number, Set<() => void>>();
  private closed = false;

  /**
   * Resolves when `settle(seq)` is called or after `ms`, whichever comes first. `isFinal` reads the stored
   * status: a message that became final before the wait began resolves at once, and so does every wait once the
   * node is stopping (close).
   */
  wait(seq: number, ms: number, isFinal: () => boolean): Promise<void> {
    if (this.closed || isFinal()) return Promise.resolve();
    return new Promise((resolve) => {
      let waiters = this.waiting.get(seq);
      if (!waiters) this.waiting.set(seq, (waiters = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        const w = this.waiting.get(seq);
        w?.delete(done);
        if (w?.size === 0) this.waiting.delete(seq);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref(); // a held request never keeps a stopping process alive
      waiters.add(done);
    });
  }

  /** The message reached a final status: wake its waiters. */
  settle(seq: number): void {
    const waiters = this.waiting.get(seq);
    if (!waiters) return;
    this.waiting.delete(seq);
    for (const done of waiters) done();
  }

  /** Wakes the waiters of every message `isFinal` says is final now (one another process made final). */
  settleWhere(isFinal: (seq: number) => boolean): void {
    for (const seq of [...this.waiting.keys()]) if (isFinal(seq)) this.settle(seq);
  }

  /**
   * The node is stopping: answer every held request now, each with the status as it stands, and hold none that
   * begins later (a submission still being checked when the stop began), so the API can finish its requests.
   */
  close(): void {
    this.closed = true;
    for (const seq of [...this.waiting.keys()]) this.settle(seq);
  }

  /** Messages with at least one waiting request. */
  get size(): number {
    return this.waiting.size;
  }
}
