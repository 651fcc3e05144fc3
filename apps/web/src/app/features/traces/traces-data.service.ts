import { Injectable, inject } from '@angular/core';
import { ApiClient } from '../../core/api/api-client.service';
import type { Span } from '../../core/api/api.types';

const SPAN_FIELDS =
  'traceId spanId parentSpanId name serviceName deviceId kind startTime startTimeUs durationUs status statusMessage attributes { key value }';

@Injectable({ providedIn: 'root' })
export class TracesDataService {
  private readonly api = inject(ApiClient);

  async search(
    filter: {
      service?: string;
      name?: string;
      minDurationMs?: number;
      status?: string;
      fromMs: number;
      toMs: number;
    },
    signal?: AbortSignal,
  ): Promise<Span[]> {
    const data = await this.api.query<{ spans: Span[] }>(
      `query S($service: String, $name: String, $minDurationMs: Int, $status: String, $from: String, $to: String) {
        spans(service: $service, name: $name, minDurationMs: $minDurationMs, status: $status, from: $from, to: $to, limit: 200) { ${SPAN_FIELDS} } }`,
      {
        service: filter.service,
        name: filter.name,
        minDurationMs: filter.minDurationMs,
        status: filter.status,
        from: new Date(filter.fromMs).toISOString(),
        to: new Date(filter.toMs).toISOString(),
      },
      signal,
    );
    return data.spans;
  }

  async trace(traceId: string, signal?: AbortSignal): Promise<Span[]> {
    const data = await this.api.query<{ trace: Span[] }>(
      `query T($traceId: String!) { trace(traceId: $traceId) { ${SPAN_FIELDS} } }`,
      { traceId },
      signal,
    );
    return data.trace;
  }
}
