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
    /**
     * How far back (log time, ms) a process reads a telemetry partition it takes over, to rebuild its
     * devices' windows before scoring from the committed offset. Must cover a window, the allowed lateness
     * and the longest filled gap; the rest warms the per-device baseline and flat-run counters.
     */
    rebuildMs: configFields.positiveInt().default(60_000),
    /** Resampled rows a device must deliver before its model is trained on them. */
    trainRows: configFields.positiveInt().default(400),
    epochs: configFields.positiveInt().default(40),
    /** Rows are scored relative to a per-metric moving baseline with this time constant (rows); 0: raw levels. */
    baselineTauRows: configFields.nonNegativeInt().default(120),
    /**
     * The baseline also follows trends with this time constant (rows; Holt's linear method), so a steady
     * healthy drift leaves no standing offset; 0: a plain moving average. Bearing wear is a steady ramp too,
     * so the trend is followed only while it moves the metrics along the relations the device's group model
     * learned (`trendAlignment`; see README, "Runtime: cold start, drift, retraining, asset grouping").
     * Recorded in stored models.
     */
    baselineTrendRows: configFields.nonNegativeInt().default(120),
    /**
     * Share of the baseline's trend (robust units, metrics weighted by their part in the relation) that must
     * lie along the device's learned relation for the baseline to follow it: 0.5, more along than across.
     */
    trendAlignment: z.coerce.number().min(0).max(1).default(0.5),
    /**
     * One row moves the baseline by at most this many robust scales per metric (Huber's clipped update), so
     * a glitch does not drag level and trend for minutes; the common 3-sigma outlier rule. 0: no clip.
     */
    baselineClip: z.coerce.number().min(0).default(3),
    /**
     * Principal directions of normal joint movement (on a machine, its load) that a device's group model
     * does not score: a change of operating point along them is not a fault, a metric leaving them is.
     * 0: every direction scored, as in the SKAB evaluation.
     */
    relationDirections: configFields.nonNegativeInt().default(1),
    /** A metric repeating exactly the same value for this many rows is reported as stuck; 0 turns it off. */
    flatRows: configFields.nonNegativeInt().default(30),
    /** How often the model folder is checked for new current versions (also on SIGHUP); 0: only on SIGHUP. */
    modelCheckMs: configFields.nonNegativeInt().default(10_000),
    /**
     * Rows after which a device's group model is refitted on its recent rows, provided none of them alarmed,
     * and swapped in only if it alarms no more than the model in use on the last quarter (which the
     * candidate has not seen); 0 turns scheduled refits off.
     */
    groupRefitRows: configFields.nonNegativeInt().default(3600),
    /**
     * Cold start: a device's group model is first fitted on this many rows, then refitted on twice as many
     * until `trainRows`, so it is scored from its first minutes; 0: nothing scores it before `trainRows`.
     */
    coldStartRows: configFields.nonNegativeInt().default(180),
    /**
     * A cold-start fit alarms above the group margin times this: its scales come from a few minutes, and
     * a held baseline turns a new device's few false alarms into lasting ones (5: chosen on the simulator's
     * pumps, where 3 and 4 let one healthy pump in six run away).
     */
    coldStartMarginFactor: z.coerce.number().min(1).default(5),
    /**
     * Drift: when the mean group score of the last `driftRows` rows (none alarming) reaches `driftRatio`
     * times the model's held-out mean, the device is retrained on them early (validated like a scheduled
     * refit); 0 turns the check off.
     */
    driftRows: configFields.nonNegativeInt().default(600),
    driftRatio: z.coerce.number().gt(1).default(2),
    /** Whether a device's autoencoder is retrained (and validated) whenever its group model is. */
    retrainAutoencoder: configFields.flag().default(true),
    /**
     * Devices whose lifecycle labels give the same value for this label form one asset, scored together
     * by an asset group model beside each device's own; empty turns asset grouping off.
     */
    assetLabel: z.string().default('asset'),
    /** Sensitivity: threshold = quantile(training scores, 0.99) x this; lower flags more. */
    thresholdFactor: z.coerce.number().positive().default(1.5),
    forecast: z
      .object({
        /** A forecast per metric every this many resampled rows. */
        everyRows: configFields.positiveInt().default(60),
        historyRows: configFields.positiveInt().default(900),
        horizonRows: configFields.positiveInt().default(600),
        /**
         * Rows averaged into one point before fitting: trends are fitted at the horizon's resolution, not the
         * sensor's, where one-step noise would pass for trend and send long forecasts astray.
         */
        bucketRows: configFields.positiveInt().default(30),
        damped: configFields.flag().default(true),
        intervalLevel: z.coerce.number().gt(0).lt(1).default(0.9),
      })
      .default({
        everyRows: 60,
        historyRows: 900,
        horizonRows: 600,
        bucketRows: 30,
        damped: true,
        intervalLevel: 0.9,
      }),
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
    rebuildMs: 'DETECTORS_REBUILD_MS',
    thresholdFactor: 'DETECTORS_THRESHOLD_FACTOR',
    baselineTauRows: 'DETECTORS_BASELINE_TAU_ROWS',
    baselineTrendRows: 'DETECTORS_BASELINE_TREND_ROWS',
    trendAlignment: 'DETECTORS_TREND_ALIGNMENT',
    baselineClip: 'DETECTORS_BASELINE_CLIP',
    relationDirections: 'DETECTORS_RELATION_DIRECTIONS',
    flatRows: 'DETECTORS_FLAT_ROWS',
    modelCheckMs: 'DETECTORS_MODEL_CHECK_MS',
    groupRefitRows: 'DETECTORS_GROUP_REFIT_ROWS',
    coldStartRows: 'DETECTORS_COLD_START_ROWS',
    driftRows: 'DETECTORS_DRIFT_ROWS',
    assetLabel: 'DETECTORS_ASSET_LABEL',
  },
);

export type DetectorsConfig = z.infer<typeof detectorsConfigSection.schema>;
