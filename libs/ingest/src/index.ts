export { ingestConfigSection, type IngestConfig } from './ingest.config.js';
export { IngestModule } from './ingest.module.js';
export { ProjectionSink, type StreamProjection, type SinkOptions } from './projection-sink.js';
export * from './record-validation.js';
