/**
 * Identical live subscriptions are shared: N panels asking for the same query and variables make one
 * server subscription, closed when the last listener leaves (the server caps subscriptions per socket).
 */
export class SharedSubscriptions<T> {
  private readonly entries = new Map<string, { listeners: Set<(value: T) => void>; close: () => void }>();

  constructor(private readonly open: (key: string, emit: (value: T) => void) => () => void) {}

  subscribe(key: string, listener: (value: T) => void): () => void {
    let entry = this.entries.get(key);
    if (!entry) {
      const listeners = new Set<(value: T) => void>();
      const close = this.open(key, (value) => listeners.forEach((l) => l(value)));
      entry = { listeners, close };
      this.entries.set(key, entry);
    }
    entry.listeners.add(listener);
    const current = entry;
    return () => {
      current.listeners.delete(listener);
      if (current.listeners.size === 0 && this.entries.get(key) === current) {
        this.entries.delete(key);
        current.close();
      }
    };
  }

  get size(): number {
    return this.entries.size;
  }
}
