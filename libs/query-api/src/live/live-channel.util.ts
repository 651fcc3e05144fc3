/** Most events a slow subscriber may have waiting; beyond it the oldest are dropped, not the process's memory. */
const MAX_QUEUED = 1000;

interface Subscriber<T> {
  accepts(event: T): boolean;
  push(event: T): void;
}

/**
 * In-process fan-out of one kind of live event to GraphQL subscriptions, each an async iterator that ends
 * when the client unsubscribes or the socket closes.
 */
export class LiveChannel<T> {
  private readonly subscribers = new Set<Subscriber<T>>();

  get size(): number {
    return this.subscribers.size;
  }

  publish(event: T): void {
    for (const subscriber of this.subscribers) if (subscriber.accepts(event)) subscriber.push(event);
  }

  subscribe(accepts: (event: T) => boolean, onClose: () => void): AsyncIterableIterator<T> {
    const queue: T[] = [];
    let waiting: ((result: IteratorResult<T>) => void) | undefined;
    let closed = false;
    const subscriber: Subscriber<T> = {
      accepts,
      push: (event) => {
        if (waiting) {
          const resolve = waiting;
          waiting = undefined;
          resolve({ value: event, done: false });
          return;
        }
        if (queue.length >= MAX_QUEUED) queue.shift();
        queue.push(event);
      },
    };
    this.subscribers.add(subscriber);
    const close = (): Promise<IteratorResult<T>> => {
      if (!closed) {
        closed = true;
        this.subscribers.delete(subscriber);
        queue.length = 0;
        waiting?.({ value: undefined, done: true });
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
        return new Promise((resolve) => (waiting = resolve));
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
