export * from './generated/events.type.js';
export {
  deadLetterTopic,
  eventStreams,
  subjectName,
  topicName,
  type EventStream,
  type RecordOf,
  type StreamName,
} from './event-catalogue.js';
export {
  latestSchema,
  listEvents,
  readSchemaVersions,
  schemasDir,
  type SchemaVersion,
} from './schema-files.js';
