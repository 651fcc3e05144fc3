export {
  initTfBackend,
  type TfBackendInfo,
  type TfBackendName,
  type TfBackendOptions,
} from './tf-backend.js';
export { StandardScaler, type ScalerState } from './standard-scaler.js';
export {
  WindowAutoencoder,
  defaultAutoencoderOptions,
  type AutoencoderMetadata,
  type AutoencoderOptions,
  type TrainInput,
  type TrainingRange,
  type WindowScore,
} from './window-autoencoder.js';
export { listCsvFiles, readCsvSeries, type CsvSeries, type CsvSeriesOptions } from './csv-series.util.js';
export * from './skab-metrics.util.js';
export {
  evaluateCsvFiles,
  type EvaluationOptions,
  type EvaluationResult,
  type FileEvaluation,
  type ScoredRow,
} from './anomaly-evaluation.js';
export {
  WindowAssembler,
  type AssembledWindow,
  type AssemblerOptions,
  type AssemblerStats,
  type SampleInput,
} from './window-assembler.js';
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
} from './holt-forecaster.js';
export { detectorsConfigSection, type DetectorsConfig } from './detectors.config.js';
export { DetectorsModule } from './detectors.module.js';
export { DetectorsService, DETECTORS_CONFIG } from './detectors.service.js';
export {
  DeviceStream,
  type DeviceStreamOptions,
  type StreamRow,
  type StreamWindow,
} from './device-stream.js';
export { ModelStore, type StoredModel } from './model-store.js';
export {
  csvDeviceRows,
  modelPreprocessing,
  replayDeviceRows,
  trainDeviceModel,
  type ReplayOptions,
} from './device-training.js';
