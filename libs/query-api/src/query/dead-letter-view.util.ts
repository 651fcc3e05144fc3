import { deadLetterHeaders } from '@sentio/kafka';
import type { KafkaMessage } from 'kafkajs';
import type { DeadLetterCountDto, DeadLetterDto } from './dead-letters.dto.js';

/** Bytes of a value shown in a preview: enough to recognise a payload, never a whole 2 MB one. */
export const PREVIEW_BYTES = 512;

function header(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** Text when the bytes are printable UTF-8, else hexadecimal; cut to PREVIEW_BYTES either way. */
export function preview(value: Buffer | null): { valuePreview: string; valueEncoding: string } {
  if (value === null || value.length === 0) return { valuePreview: '', valueEncoding: 'none' };
  const head = value.subarray(0, PREVIEW_BYTES);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  // A cut in the middle of a multi-byte character leaves one replacement character at the end: still text.
  const body = value.length > PREVIEW_BYTES ? text.replace(/\uFFFD$/, '') : text;
  const printable = ![...body].some(
    (c) => c === '\uFFFD' || (c < ' ' && c !== '\t' && c !== '\n' && c !== '\r'),
  );
  return printable
    ? { valuePreview: body, valueEncoding: 'utf8' }
    : { valuePreview: head.toString('hex'), valueEncoding: 'hex' };
}

/** One record of the dead-letter topic as the console shows it; the headers say where it came from. */
export function toDeadLetterView(partition: number, message: KafkaMessage): DeadLetterDto {
  const failedAtMs = Number(header(message, deadLetterHeaders.failedAt) ?? message.timestamp);
  return {
    failedAt: new Date(Number.isFinite(failedAtMs) ? failedAtMs : Number(message.timestamp)).toISOString(),
    component: header(message, deadLetterHeaders.component) ?? 'unknown',
    reason: header(message, deadLetterHeaders.reason) ?? '',
    sourceTopic: header(message, deadLetterHeaders.sourceTopic) ?? '',
    sourcePartition: Number(header(message, deadLetterHeaders.sourcePartition) ?? -1),
    sourceOffset: header(message, deadLetterHeaders.sourceOffset) ?? '',
    partition,
    offset: message.offset,
    key: message.key === null ? null : message.key.toString('utf8').slice(0, 256),
    valueBytes: message.value?.length ?? 0,
    // Oversized inputs are dead-lettered truncated, with their real size and hash in headers.
    originalBytes: Number(header(message, deadLetterHeaders.valueBytes) ?? message.value?.length ?? 0),
    truncated: header(message, deadLetterHeaders.truncated) === 'true',
    originalSha256: header(message, deadLetterHeaders.valueSha256) ?? null,
    ...preview(message.value),
  };
}

/**
 * What alike reasons share: `unknown device pump-0042` and `unknown device pump-0043` are one kind. Numbers
 * and quoted values become placeholders; the rest (the words a component chose) stays.
 */
export function reasonKind(reason: string): string {
  return reason
    .slice(0, 200)
    .replace(/"[^"]*"|'[^']*'/g, '…')
    .replace(/\b[\w.-]*\d[\w.-]*\b/g, '#')
    .trim();
}

/** Most distinct reason kinds tracked; beyond it they are counted under one `other` entry per component. */
const MAX_KINDS = 1000;

/** Counts of dead letters by component, source topic and reason kind, and the most recent ones. */
export class DeadLetterTally {
  private readonly recent: DeadLetterDto[] = [];
  private readonly counts = new Map<string, DeadLetterCountDto>();
  total = 0;

  constructor(private readonly keep = 500) {}

  add(letter: DeadLetterDto): void {
    this.total++;
    this.recent.push(letter);
    if (this.recent.length > this.keep) this.recent.shift();
    let reason = reasonKind(letter.reason);
    let key = `${letter.component}\u0000${letter.sourceTopic}\u0000${reason}`;
    if (!this.counts.has(key) && this.counts.size >= MAX_KINDS) {
      reason = 'other';
      key = `${letter.component}\u0000${letter.sourceTopic}\u0000${reason}`;
    }
    const entry = this.counts.get(key);
    if (entry) {
      entry.count++;
      if (letter.failedAt > entry.lastFailedAt) entry.lastFailedAt = letter.failedAt;
    } else {
      this.counts.set(key, {
        component: letter.component,
        sourceTopic: letter.sourceTopic,
        reason,
        count: 1,
        lastFailedAt: letter.failedAt,
      });
    }
  }

  byReason(): DeadLetterCountDto[] {
    return [...this.counts.values()]
      .map((c) => ({ ...c }))
      .sort(
        (a, b) =>
          b.count - a.count || a.component.localeCompare(b.component) || a.reason.localeCompare(b.reason),
      );
  }

  /** Newest first (by when they failed; the topic's partitions interleave). */
  latest(limit: number, component?: string): DeadLetterDto[] {
    return this.recent
      .filter((l) => component === undefined || l.component === component)
      .sort((a, b) => b.failedAt.localeCompare(a.failedAt) || b.offset.localeCompare(a.offset))
      .slice(0, limit);
  }
}
