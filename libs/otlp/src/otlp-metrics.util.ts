import { counter, histogram } from '@sentio/observability';
import type { OtlpSignal } from './otlp.type.js';

const requests = counter('sentio_otlp_requests_total', 'OTLP/HTTP export requests, by HTTP status', [
  'signal',
  'status',
]);
const items = counter(
  'sentio_otlp_items_total',
  'Spans, data points and log records received, by outcome (accepted or rejected)',
  ['signal', 'outcome'],
);
const eventsOut = counter('sentio_otlp_events_out_total', 'Events acknowledged by Kafka', ['stream']);
const requestSeconds = histogram(
  'sentio_otlp_request_seconds',
  'Time from request to response, Kafka acknowledgement included',
  ['signal'],
);

export const otlpMetrics = {
  request(signal: OtlpSignal | 'unknown', status: number): void {
    requests.inc({ signal, status: String(status) });
  },
  items(signal: OtlpSignal, accepted: number, rejected: number): void {
    if (accepted > 0) items.inc({ signal, outcome: 'accepted' }, accepted);
    if (rejected > 0) items.inc({ signal, outcome: 'rejected' }, rejected);
  },
  eventsOut(stream: string, count: number): void {
    if (count > 0) eventsOut.inc({ stream }, count);
  },
  timer(signal: OtlpSignal): () => void {
    const end = requestSeconds.startTimer({ signal });
    return () => {
      end();
    };
  },
};
