import { deadLetterHeaders } from '@sentio/kafka';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  DeadLetterTally,
  preview,
  PREVIEW_BYTES,
  reasonKind,
  toDeadLetterView,
} from './dead-letter-view.util.js';

const message = (value: Buffer | null, headers: Record<string, string>, offset = '7'): KafkaMessage => ({
  key: Buffer.from('pump-1'),
  value,
  timestamp: String(Date.UTC(2026, 10, 26)),
  attributes: 0,
  offset,
  headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
});

describe('dead-letter view', () => {
  it('reads where a dead letter came from out of its headers', () => {
    const view = toDeadLetterView(
      2,
      message(Buffer.from('{"v":1}'), {
        [deadLetterHeaders.reason]: 'unknown device pump-1',
        [deadLetterHeaders.component]: 'ingest',
        [deadLetterHeaders.sourceTopic]: 'sentio.telemetry.samples.v1',
        [deadLetterHeaders.sourcePartition]: '4',
        [deadLetterHeaders.sourceOffset]: '1234',
        [deadLetterHeaders.failedAt]: String(Date.UTC(2026, 10, 27)),
      }),
    );
    expect(view).toEqual({
      failedAt: new Date(Date.UTC(2026, 10, 27)).toISOString(),
      component: 'ingest',
      reason: 'unknown device pump-1',
      sourceTopic: 'sentio.telemetry.samples.v1',
      sourcePartition: 4,
      sourceOffset: '1234',
      partition: 2,
      offset: '7',
      key: 'pump-1',
      valueBytes: 7,
      originalBytes: 7,
      truncated: false,
      originalSha256: null,
      valuePreview: '{"v":1}',
      valueEncoding: 'utf8',
    });
    // Without headers (written by something else): the record's own time, unknown origin.
    expect(toDeadLetterView(0, message(null, {}))).toMatchObject({
      failedAt: new Date(Date.UTC(2026, 10, 26)).toISOString(),
      component: 'unknown',
      valueEncoding: 'none',
      valueBytes: 0,
    });
  });

  it('reports the size and hash of an input that was truncated to fit', () => {
    const view = toDeadLetterView(
      0,
      message(Buffer.alloc(100, 'x'), {
        [deadLetterHeaders.valueBytes]: '2097152',
        [deadLetterHeaders.valueSha256]: 'ab'.repeat(32),
        [deadLetterHeaders.truncated]: 'true',
      }),
    );
    expect(view).toMatchObject({ valueBytes: 100, originalBytes: 2_097_152, truncated: true });
    expect(view.originalSha256).toBe('ab'.repeat(32));
  });

  it('previews text as text and binary as hex, never more than the preview size', () => {
    expect(preview(Buffer.from('é ok\n'))).toEqual({ valuePreview: 'é ok\n', valueEncoding: 'utf8' });
    expect(preview(Buffer.from([0x00, 0x01, 0xfe]))).toEqual({
      valuePreview: '0001fe',
      valueEncoding: 'hex',
    });
    // A cut through a two-byte character at the limit is still text.
    const long = Buffer.from('a'.repeat(PREVIEW_BYTES - 1) + 'é'.repeat(10));
    expect(preview(long)).toEqual({ valuePreview: 'a'.repeat(PREVIEW_BYTES - 1), valueEncoding: 'utf8' });
    expect(preview(Buffer.alloc(5000, 0xff)).valuePreview).toHaveLength(2 * PREVIEW_BYTES);
  });

  it('groups alike reasons: numbers, ids and quoted values become placeholders', () => {
    expect(reasonKind('unknown device pump-0042')).toBe('unknown device #');
    expect(reasonKind('field "value": expected a number, got \'abc\'')).toBe(
      'field …: expected a number, got …',
    );
    expect(reasonKind('payload of 2097152 bytes exceeds 1048576')).toBe('payload of # bytes exceeds #');
  });

  it('tallies by component, topic and kind, keeps the newest letters, newest first', () => {
    const tally = new DeadLetterTally(2);
    const letter = (i: number, reason: string, component = 'ingest') => ({
      ...toDeadLetterView(0, message(Buffer.from('x'), {}, String(i))),
      failedAt: new Date(Date.UTC(2026, 10, 26) + i).toISOString(),
      reason,
      component,
    });
    tally.add(letter(1, 'unknown device a-1'));
    tally.add(letter(2, 'unknown device a-2'));
    tally.add(letter(3, 'bad schema', 'otlp'));
    expect(tally.total).toBe(3);
    expect(tally.byReason().map((c) => [c.component, c.reason, c.count])).toEqual([
      ['ingest', 'unknown device #', 2],
      ['otlp', 'bad schema', 1],
    ]);
    expect(tally.latest(10).map((l) => l.offset)).toEqual(['3', '2']);
    expect(tally.latest(10, 'ingest').map((l) => l.offset)).toEqual(['2']);
  });
});
