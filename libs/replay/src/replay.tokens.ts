export const REPLAY_CONFIG = Symbol('ReplayConfig');
/** Live ingest's consumer group: its committed offsets are the live version's frontier. */
export const INGEST_GROUP_ID = Symbol('IngestGroupId');
/** The detectors' settings (metrics, window, forecast rule): what a re-score scores with. */
export const DETECTORS_SETTINGS = Symbol('DetectorsSettings');
