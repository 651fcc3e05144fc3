export {
  initTfBackend,
  type TfBackendInfo,
  type TfBackendName,
  type TfBackendOptions,
} from './runtime/tf-backend.js';
export { StandardScaler, type ScalerState } from './models/standard-scaler.js';
export {
  WindowAutoencoder,
  defaultAutoencoderOptions,
  type AutoencoderMetadata,
  type AutoencoderOptions,
  type TrainInput,
  type TrainingRange,
  type WindowScore,
} from './models/window-autoencoder.js';
export {
  listCsvFiles,
  readCsvSeries,
  type CsvSeries,
  type CsvSeriesOptions,
} from './evaluation/csv-series.util.js';
export * from './evaluation/skab-metrics.util.js';
export {
  detectorChoices,
  evaluateSeriesFiles,
  trainRowsOf,
  type DetectorChoice,
  type DetectorKind,
  type DetectorResult,
  type FileSummary,
  type RowResult,
  type SeriesEvaluationOptions,
  type SeriesEvaluationResult,
  type TrainSplit,
} from './evaluation/series-evaluation.js';
export {
  COVERAGE_LEVELS,
  defaultForecastEvaluationOptions,
  emptyForecastTally,
  evaluateForecastSeries,
  forecastMethods,
  forecastWith,
  summariseForecasts,
  type ForecastEvaluationOptions,
  type ForecastMethod,
  type ForecastRow,
  type ForecastSummary,
  type ForecastTally,
} from './forecasting/forecast-evaluation.js';
export { sesForecast } from './forecasting/ses-forecaster.js';
export {
  bucketMeans,
  defaultMetricForecasterOptions,
  forecastMetric,
  forecastPoints,
  METRIC_FORECASTER_ID,
  type MetricForecast,
  type MetricForecasterOptions,
} from './forecasting/metric-forecaster.js';
export {
  syntheticCorpus,
  syntheticSeries,
  type SyntheticSeries,
} from './evaluation/synthetic-series.util.js';
export {
  calibrateMargin,
  type MarginCalibration,
  type MarginCalibrationOptions,
} from './evaluation/margin-calibration.js';
export {
  RobustGroupModel,
  GroupScorer,
  defaultRobustGroupOptions,
  groupMembers,
  type GroupMember,
  type GroupScore,
  type RobustGroupOptions,
  type RobustGroupState,
} from './models/robust-group-model.js';
export { refitIfBetter, type RefitDecision } from './models/group-refit.js';
export {
  UnivariateDetector,
  defaultUnivariateOptions,
  univariateMembers,
  univariateOptionsFor,
  type UnivariateMember,
  type UnivariateOptions,
  type UnivariateScore,
} from './models/univariate-detector.js';
export {
  WindowAssembler,
  type AssembledWindow,
  type AssemblerOptions,
  type AssemblerStats,
  type SampleInput,
} from './runtime/window-assembler.js';
export {
  assessFailure,
  defaultHoltOptions,
  fitHolt,
  holtForecast,
  seasonalNaive,
  type FailureAssessment,
  type ForecastPoint,
  type HoltFit,
  type HoltOptions,
  type Limits,
  type Risk,
} from './forecasting/holt-forecaster.js';
export { detectorsConfigSection, type DetectorsConfig } from './detectors.config.js';
export { DetectorsModule } from './detectors.module.js';
export { DetectorsService, DETECTORS_CONFIG } from './runtime/detectors.service.js';
export {
  DeviceStream,
  type DeviceStreamOptions,
  type StreamRow,
  type StreamWindow,
} from './runtime/device-stream.js';
export { ModelStore, type StoredModel } from './runtime/model-store.js';
export { RelatedDeviceStream } from './runtime/related-device-stream.js';
export {
  csvDeviceRows,
  modelFitsConfig,
  modelPreprocessing,
  replayDeviceRows,
  trainDeviceModel,
  type ReplayOptions,
} from './runtime/device-training.js';
