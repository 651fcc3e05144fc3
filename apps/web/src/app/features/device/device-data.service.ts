import { Injectable, inject } from '@angular/core';
import { ApiClient } from '../../core/api/api-client.service';
import type { Anomaly, Forecast, LogRecord, Series } from '../../core/api/api.types';

const SERIES_FIELDS = 'device metric agg resolution stepMs from to points { ts value }';
const ANOMALY_FIELDS =
  'ts deviceId windowStart windowEnd score threshold modelVersion contributions { metric error }';

export interface SeriesRequest {
  device: string;
  metrics: string[];
  fromMs: number;
  toMs: number;
  step?: string;
  agg?: string;
}

/** Reads for one device (and the metrics explorer): series of several metrics in one GraphQL request. */
@Injectable({ providedIn: 'root' })
export class DeviceDataService {
  private readonly api = inject(ApiClient);

  async series(req: SeriesRequest, signal?: AbortSignal): Promise<Series[]> {
    if (req.metrics.length === 0) return [];
    // One aliased field per metric: one round trip for a whole page of charts.
    const fields = req.metrics
      .map(
        (_, i) =>
          `s${i}: metricSeries(device: $device, metric: $m${i}, from: $from, to: $to, step: $step, agg: $agg) { ${SERIES_FIELDS} }`,
      )
      .join('\n');
    const vars = req.metrics.map((_, i) => `$m${i}: String!`).join(', ');
    const doc = `query Series($device: String!, ${vars}, $from: String, $to: String, $step: Duration, $agg: String) { ${fields} }`;
    const variables: Record<string, unknown> = {
      device: req.device,
      from: new Date(req.fromMs).toISOString(),
      to: new Date(req.toMs).toISOString(),
      step: req.step,
      agg: req.agg,
    };
    req.metrics.forEach((m, i) => (variables[`m${i}`] = m));
    const data = await this.api.query<Record<string, Series>>(doc, variables, signal);
    return req.metrics.map((_, i) => data[`s${i}`]!);
  }

  async anomalies(
    device: string | undefined,
    fromMs: number,
    toMs: number,
    limit = 500,
    signal?: AbortSignal,
  ): Promise<Anomaly[]> {
    const data = await this.api.query<{ anomalies: Anomaly[] }>(
      `query A($device: String, $from: String, $to: String, $limit: Int) { anomalies(device: $device, from: $from, to: $to, limit: $limit) { ${ANOMALY_FIELDS} } }`,
      { device, from: iso(fromMs), to: iso(toMs), limit },
      signal,
    );
    return data.anomalies;
  }

  /** The newest forecast of each metric of the device within the range. */
  async forecasts(device: string, fromMs: number, toMs: number, signal?: AbortSignal): Promise<Forecast[]> {
    const data = await this.api.query<{ forecasts: Forecast[] }>(
      `query F($device: String!, $from: String, $to: String) { forecasts(device: $device, from: $from, to: $to, limit: 500) {
        ts deviceId metric intervalLevel limitLower limitUpper timeToFailureMs risk modelVersion points { ts value lower upper } } }`,
      { device, from: iso(fromMs), to: iso(toMs) },
      signal,
    );
    const newest = new Map<string, Forecast>();
    for (const f of data.forecasts) {
      const known = newest.get(f.metric);
      if (!known || known.ts < f.ts) newest.set(f.metric, f);
    }
    return [...newest.values()];
  }

  async logs(
    filter: {
      device?: string;
      level?: string;
      contains?: string;
      fromMs: number;
      toMs: number;
      limit?: number;
      cursor?: string;
    },
    signal?: AbortSignal,
  ): Promise<{ items: LogRecord[]; nextCursor: string | null }> {
    const data = await this.api.query<{ logs: { items: LogRecord[]; nextCursor: string | null } }>(
      `query L($device: String, $level: String, $contains: String, $from: String, $to: String, $limit: Int, $cursor: String) {
        logs(device: $device, level: $level, contains: $contains, from: $from, to: $to, limit: $limit, cursor: $cursor) {
          nextCursor items { ts deviceId severity body traceId spanId source eventId } } }`,
      {
        device: filter.device,
        level: filter.level,
        contains: filter.contains,
        from: iso(filter.fromMs),
        to: iso(filter.toMs),
        limit: filter.limit ?? 200,
        cursor: filter.cursor,
      },
      signal,
    );
    return data.logs;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
