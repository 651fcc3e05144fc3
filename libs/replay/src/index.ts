export { replayConfigSection, type ReplayConfig } from './replay.config.js';
export { ReplayModule } from './replay.module.js';
export {
  ReplayService,
  isPartial,
  type PartitionPlan,
  type ProjectionReplayRequest,
  type ReplayPlan,
  type ReplayProgress,
} from './replay.service.js';
export {
  ProjectionVersionsService,
  writeAheadGroup,
  type VersionStatus,
} from './projection-versions.service.js';
export { FAMILY_SOURCES } from './replay-families.constant.js';
export { committedOffsets, offsetsForTime, watermarks, type PartitionOffsets } from './kafka-offsets.util.js';
export { rescoreDetectors, type RescoreRequest, type RescoreResult } from './detector-rescore.js';
export { DetectorRescoreService, type ComparisonReport } from './detector-rescore.service.js';
export {
  ForecastRescoresRepository,
  type ForecastTally,
  type RescoredForecast,
} from './forecast-rescores.repository.js';
export {
  compareVersions,
  parseFaultIntervals,
  type FaultInterval,
  type VersionComparison,
} from './version-compare.util.js';
export { archiveTopics, TopicArchive, type ArchiveSegment, type ArchiveRunResult } from './topic-archive.js';
