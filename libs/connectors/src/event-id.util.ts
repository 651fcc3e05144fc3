import { createHash } from 'node:crypto';

/**
 * A UUID-shaped id derived from what identifies an event, so the same input redelivered (an MQTT message
 * sent again after a lost PUBACK) yields the same id and downstream deduplication can drop it.
 */
export function stableEventId(...parts: Array<string | number | null>): string {
  const hex = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
