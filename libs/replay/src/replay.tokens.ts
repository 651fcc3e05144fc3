export const REPLAY_CONFIG = Symbol('ReplayConfig');
/** Live ingest's consumer group: its committed offsets are the live version's frontier. */
export const INGEST_GROUP_ID = Symbol('IngestGroupId');
