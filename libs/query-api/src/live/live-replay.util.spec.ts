import { describe, expect, it } from 'vitest';
import { formatCursor, parseCursor, ReplayLog, ResumeNotCoveredError } from './live-replay.util.js';

describe('ReplayLog', () => {
  const filled = () => {
    const log = new ReplayLog<string>(100, 60_000);
    log.read(0, 10n, 13n);
    for (const o of [10n, 11n, 12n]) log.append(0, o, `p0-${o}`);
    log.read(1, 5n, 7n);
    for (const o of [5n, 6n]) log.append(1, o, `p1-${o}`);
    return log;
  };

  it('cursors name every partition read, the event itself included', () => {
    const log = filled();
    expect(log.cursor(0, 11n)).toBe('0:12,1:7');
    expect(parseCursor('0:12,1:7')).toEqual(
      new Map([
        [0, 12n],
        [1, 7n],
      ]),
    );
    expect(formatCursor(parseCursor('1:7,0:12'))).toBe('0:12,1:7');
    expect(() => parseCursor('0:x')).toThrow(/partition:offset/);
  });

  it('resumes with exactly the events after the cursor, then only newer live ones', () => {
    const log = filled();
    const r = log.resume(parseCursor('0:11,1:7'));
    if (r instanceof Error) throw r;
    expect(r.replay).toEqual(['p0-11', 'p0-12']);
    expect(r.accepts(0, 12n)).toBe(false);
    expect(r.accepts(0, 13n)).toBe(true);
    expect(r.accepts(1, 7n)).toBe(true);
    expect(r.accepts(2, 0n)).toBe(true);
  });

  it('refuses a cursor from before this instance started reading, or out of the buffer', () => {
    const log = filled();
    expect(log.resume(parseCursor('0:9'))).toBeInstanceOf(ResumeNotCoveredError);
    const small = new ReplayLog<string>(2, 60_000);
    small.read(0, 0n, 3n);
    for (const o of [0n, 1n, 2n]) small.append(0, o, `e${o}`);
    expect(small.resume(parseCursor('0:0'))).toBeInstanceOf(ResumeNotCoveredError);
    expect(small.resume(parseCursor('0:1'))).not.toBeInstanceOf(Error);
  });

  it('checks a partition it had not read yet when its first batch arrives', () => {
    const log = filled();
    const r = log.resume(parseCursor('0:13,2:4'));
    if (r instanceof Error) throw r;
    log.read(2, 6n, 7n); // started reading partition 2 after offset 4: events 4 and 5 were never seen here
    expect(r.accepts(2, 6n)).toBeInstanceOf(ResumeNotCoveredError);
    const ok = log.resume(parseCursor('0:13,3:4'));
    if (ok instanceof Error) throw ok;
    log.read(3, 4n, 5n);
    expect(ok.accepts(3, 4n)).toBe(true);
  });
});

describe('ReplayLog before the first batch', () => {
  it('refuses at once a cursor from before the partition end it was assigned at', () => {
    const log = new ReplayLog<string>(10, 60_000);
    log.assigned(0, 50n);
    expect(log.resume(parseCursor('0:40'))).toBeInstanceOf(ResumeNotCoveredError);
    const r = log.resume(parseCursor('0:50'));
    if (r instanceof Error) throw r;
    log.read(0, 52n, 53n); // it actually began later: events 50 and 51 were never read here
    expect(r.accepts(0, 52n)).toBeInstanceOf(ResumeNotCoveredError);
  });
});
