export { ingestConfigSection, type IngestConfig } from './ingest.config.js';
export { IngestModule } from './ingest.module.js';
export {
  ProjectionSink,
  type Committer,
  type SinkOptions,
  type StreamProjection,
} from './projection-sink.js';
export * from './record-validation.js';
export { projectedStreams, sinkStreams, streamValidators } from './stream-projections.js';
