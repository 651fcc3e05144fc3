import type { Span } from '../../core/api/api.types';

export interface WaterfallRow {
  span: Span;
  depth: number;
  /** Start and width as a percentage of the whole trace. */
  offsetPct: number;
  widthPct: number;
}

/**
 * Spans in tree order (each parent followed by its children, siblings by start time), with their bar
 * positions. Spans whose parent is missing from the trace are shown as roots rather than dropped.
 */
export function waterfall(spans: Span[]): WaterfallRow[] {
  if (spans.length === 0) return [];
  const start = Math.min(...spans.map((s) => s.startTimeUs));
  const end = Math.max(...spans.map((s) => s.startTimeUs + s.durationUs));
  const total = Math.max(1, end - start);
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, Span[]>();
  const roots: Span[] = [];
  for (const s of spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else roots.push(s);
  }
  const byStart = (a: Span, b: Span) => a.startTimeUs - b.startTimeUs;
  const rows: WaterfallRow[] = [];
  const visited = new Set<string>();
  const visit = (span: Span, depth: number) => {
    if (visited.has(span.spanId)) return;
    visited.add(span.spanId);
    rows.push({
      span,
      depth,
      offsetPct: ((span.startTimeUs - start) / total) * 100,
      widthPct: Math.max(0.2, (span.durationUs / total) * 100),
    });
    for (const child of (children.get(span.spanId) ?? []).sort(byStart)) visit(child, depth + 1);
  };
  roots.sort(byStart).forEach((r) => visit(r, 0));
  return rows;
}

export function formatMicros(us: number): string {
  if (us < 1000) return `${us.toFixed(0)} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}
