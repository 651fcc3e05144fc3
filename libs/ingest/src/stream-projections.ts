import type { StreamProjections } from '@sentio/clickhouse';
import type { RecordOf, StreamName } from '@sentio/events';
import type { StreamCodecs } from '@sentio/kafka';
import type { StreamProjection } from './projection-sink.js';
import {
  validateAlert,
  validateAnomaly,
  validateForecast,
  validateLifecycle,
  validateLog,
  validateSpan,
  validateTelemetry,
  type Validator,
} from './record-validation.js';

/** What makes a record of each stream unfit for its table. */
export const streamValidators: { readonly [S in StreamName]?: Validator<RecordOf<S>> } = {
  telemetry: validateTelemetry,
  logs: validateLog,
  spans: validateSpan,
  lifecycle: validateLifecycle,
  anomalies: validateAnomaly,
  forecasts: validateForecast,
  alerts: validateAlert,
};

/** The streams that have a projection: every one of them must have a validator too. */
export function projectedStreams(projections: StreamProjections): StreamName[] {
  const streams = (Object.keys(projections) as StreamName[]).filter((s) => projections[s] !== undefined);
  const unchecked = streams.filter((s) => streamValidators[s] === undefined);
  if (unchecked.length > 0) {
    throw new Error(`no record validation for projected stream(s) ${unchecked.join(', ')}`);
  }
  return streams;
}

/** Each projected stream with its topic, codec, table and validation: what a ProjectionSink is built from. */
export async function sinkStreams(
  codecs: StreamCodecs,
  projections: StreamProjections,
  streams: readonly StreamName[] = projectedStreams(projections),
): Promise<StreamProjection<unknown>[]> {
  const result: StreamProjection<unknown>[] = [];
  for (const stream of streams) {
    const codec = await codecs.get(stream);
    result.push({
      topic: codec.topic,
      codec,
      projection: projections[stream],
      validate: streamValidators[stream],
    } as StreamProjection<unknown>);
  }
  return result;
}
