import { describe, expect, it } from 'vitest';
import { LiveChannel } from './live-channel.util.js';

describe('LiveChannel', () => {
  it('delivers accepted events in order, queued or awaited, and forgets a closed subscriber', async () => {
    const channel = new LiveChannel<number>();
    let closed = 0;
    const evens = channel.subscribe(
      (n) => n % 2 === 0,
      () => closed++,
    );
    channel.publish(1);
    channel.publish(2);
    channel.publish(4);
    expect(await evens.next()).toEqual({ value: 2, done: false });
    expect(await evens.next()).toEqual({ value: 4, done: false });
    const pending = evens.next();
    channel.publish(6);
    expect(await pending).toEqual({ value: 6, done: false });
    expect(channel.size).toBe(1);
    await evens.return!();
    await evens.return!();
    expect(closed).toBe(1);
    expect(channel.size).toBe(0);
    expect(await evens.next()).toEqual({ value: undefined, done: true });
  });

  it('ends a waiting consumer when the subscription closes', async () => {
    const channel = new LiveChannel<string>();
    const all = channel.subscribe(
      () => true,
      () => undefined,
    );
    const pending = all.next();
    await all.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
  });
});
