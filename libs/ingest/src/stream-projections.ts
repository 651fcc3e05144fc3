import { EventCodec, type AvroSerde } from '@sentio/avro';
import {
  AlertsRepository,
  AnomaliesRepository,
  DevicesRepository,
  ForecastsRepository,
  LogsRepository,
  MetricsRepository,
  SpansRepository,
} from '@sentio/clickhouse';
import { eventStreams } from '@sentio/events';
import type { EventTopics } from '@sentio/kafka';
import type { StreamProjection } from './projection-sink.js';
import {
  validateAlert,
  validateAnomaly,
  validateForecast,
  validateLifecycle,
  validateLog,
  validateSpan,
  validateTelemetry,
} from './record-validation.js';

export interface ProjectionTables {
  metrics: MetricsRepository;
  logs: LogsRepository;
  spans: SpansRepository;
  devices: DevicesRepository;
  anomalies: AnomaliesRepository;
  forecasts: ForecastsRepository;
  alerts: AlertsRepository;
}

/** Which stream feeds which table, and what makes one of its records unfit for it. */
export async function streamProjections(
  serde: AvroSerde,
  topics: EventTopics,
  tables: ProjectionTables,
): Promise<StreamProjection<unknown>[]> {
  const s = eventStreams;
  const projections = [
    {
      topic: topics.telemetry,
      codec: await EventCodec.register(serde, s.telemetry, topics.telemetry),
      projection: tables.metrics,
      validate: validateTelemetry,
    },
    {
      topic: topics.logs,
      codec: await EventCodec.register(serde, s.logs, topics.logs),
      projection: tables.logs,
      validate: validateLog,
    },
    {
      topic: topics.spans,
      codec: await EventCodec.register(serde, s.spans, topics.spans),
      projection: tables.spans,
      validate: validateSpan,
    },
    {
      topic: topics.lifecycle,
      codec: await EventCodec.register(serde, s.lifecycle, topics.lifecycle),
      projection: tables.devices,
      validate: validateLifecycle,
    },
    {
      topic: topics.anomalies,
      codec: await EventCodec.register(serde, s.anomalies, topics.anomalies),
      projection: tables.anomalies,
      validate: validateAnomaly,
    },
    {
      topic: topics.forecasts,
      codec: await EventCodec.register(serde, s.forecasts, topics.forecasts),
      projection: tables.forecasts,
      validate: validateForecast,
    },
    {
      topic: topics.alerts,
      codec: await EventCodec.register(serde, s.alerts, topics.alerts),
      projection: tables.alerts,
      validate: validateAlert,
    },
  ];
  return projections as StreamProjection<unknown>[];
}
