/** Most events a slow subscriber may have waiting; beyond it the oldest are dropped, not the process's memory. */
const MAX_QUEUED = 1000;

interface Subscriber<T> {
  /** True: deliver; false: skip; an Error: end the subscription with it (the client must know). */
  accepts(event: T): boolean | Error;
  push(event: T): void;
  fail(error: Error): void;
}

/**
 * In-process fan-out of one kind of live event to GraphQL subscriptions, each an async iterator that ends
 * when the client unsubscribes or the socket closes, or fails when its filter says it cannot go on.
 */
export class LiveChannel<T> {
  private readonly subscribers = new Set<Subscriber<T>>();

  get size(): number {
    return this.subscribers.size;
  }

  publish(event: T): void {
    for (const subscriber of this.subscribers) {
      const verdict = subscriber.accepts(event);
      if (verdict instanceof Error) subscriber.fail(verdict);
      else if (verdict) subscriber.push(event);
    }
  }

  /** `replay`: events the subscription starts with (a resumed client's missed events), before live ones. */
  subscribe(
    accepts: (event: T) => boolean | Error,
    onClose: () => void,
    replay: readonly T[] = [],
  ): AsyncIterableIterator<T> {
    const queue: T[] = [...replay];
    let waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void } | undefined;
    let closed = false;
    let failure: Error | undefined;
    const subscriber: Subscriber<T> = {
      accepts,
      push: (event) => {
        if (waiting) {
          const { resolve } = waiting;
          waiting = undefined;
          resolve({ value: event, done: false });
          return;
        }
        if (queue.length >= MAX_QUEUED) queue.shift();
        queue.push(event);
      },
      fail: (error) => {
        failure = error;
        this.subscribers.delete(subscriber);
        if (waiting) {
          const { reject } = waiting;
          waiting = undefined;
          reject(error);
        }
      },
    };
    this.subscribers.add(subscriber);
    const close = (): Promise<IteratorResult<T>> => {
      if (!closed) {
        closed = true;
        this.subscribers.delete(subscriber);
        queue.length = 0;
        waiting?.resolve({ value: undefined, done: true });
        waiting = undefined;
        onClose();
      }
      return Promise.resolve({ value: undefined, done: true });
    };
    return {
      next: () => {
        if (closed) return Promise.resolve({ value: undefined, done: true });
        const event = queue.shift();
        if (event !== undefined) return Promise.resolve({ value: event, done: false });
        // What was queued before the failure is delivered first, then the error.
        if (failure) return Promise.reject(failure);
        return new Promise((resolve, reject) => (waiting = { resolve, reject }));
      },
      return: close,
      throw: async (error: unknown) => {
        await close();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}
