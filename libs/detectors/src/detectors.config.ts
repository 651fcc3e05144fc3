import { configFields, defineConfigSection } from '@sentio/config';
import { z } from 'zod';

const limits = z.object({ lower: z.number().optional(), upper: z.number().optional() });

export const detectorsConfigSection = defineConfigSection(
  'detectors',
  z.object({
    groupId: z.string().min(1).default('sentio-detectors'),
    /** Metrics one model covers, in feature order; a device is scored once it reports all of them. */
    metrics: configFields
      .list()
      .default(['flow_rate', 'discharge_pressure', 'motor_current', 'vibration_rms', 'bearing_temperature']),
    /** Where each device's trained model is kept (one folder per device), so restarts do not retrain. */
    modelDir: z.string().min(1).default('.sentio/detectors/models'),
    stepMs: configFields.positiveInt().default(1000),
    windowLength: configFields.positiveInt().default(10),
    allowedLatenessMs: configFields.nonNegativeInt().default(5000),
    maxFillSteps: configFields.nonNegativeInt().default(5),
    /** Resampled rows a device must deliver before its model is trained on them. */
    trainRows: configFields.positiveInt().default(400),
    epochs: configFields.positiveInt().default(40),
    /** Sensitivity: threshold = quantile(training scores, 0.99) x this; lower flags more. */
    thresholdFactor: z.coerce.number().positive().default(1.5),
    forecast: z
      .object({
        /** A forecast per metric every this many resampled rows. */
        everyRows: configFields.positiveInt().default(60),
        historyRows: configFields.positiveInt().default(600),
        horizonRows: configFields.positiveInt().default(600),
        damped: configFields.flag().default(true),
        intervalLevel: z.coerce.number().gt(0).lt(1).default(0.9),
      })
      .default({ everyRows: 60, historyRows: 600, horizonRows: 600, damped: true, intervalLevel: 0.9 }),
    /** Per-metric limits for time to failure, e.g. { bearing_temperature: { upper: 90 } }. */
    limits: z.record(z.string(), limits).default({}),
  }),
  {
    groupId: 'DETECTORS_GROUP_ID',
    metrics: 'DETECTORS_METRICS',
    modelDir: 'DETECTORS_MODEL_DIR',
    stepMs: 'DETECTORS_STEP_MS',
    windowLength: 'DETECTORS_WINDOW_LENGTH',
    trainRows: 'DETECTORS_TRAIN_ROWS',
    thresholdFactor: 'DETECTORS_THRESHOLD_FACTOR',
  },
);

export type DetectorsConfig = z.infer<typeof detectorsConfigSection.schema>;
