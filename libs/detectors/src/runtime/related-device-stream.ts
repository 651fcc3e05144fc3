import type { DetectorsConfig } from '../detectors.config.js';
import { baselineRelations } from './baseline-relations.js';
import { DeviceStream, type StreamWindow } from './device-stream.js';
import { GroupLifecycle, type GroupLifecycleOptions } from './retraining/group-lifecycle.js';
import type { AssembledWindow } from './window-assembler.js';

/** How every device's (and asset's) group model is fitted and retrained, from the detectors' config. */
export function groupLifecycleOptions(config: DetectorsConfig): Omit<GroupLifecycleOptions, 'features'> {
  return {
    trainRows: config.trainRows,
    coldStartRows: config.coldStartRows,
    coldStartMarginFactor: config.coldStartMarginFactor,
    refitRows: config.groupRefitRows,
    driftRows: config.driftRows,
    driftRatio: config.driftRatio,
    model: { relationDirections: config.relationDirections },
  };
}

/** A device's stream with the baseline settings of the config. */
export function deviceStream(config: DetectorsConfig): DeviceStream {
  return new DeviceStream({
    stepMs: config.stepMs,
    windowLength: config.windowLength,
    baselineTauRows: config.baselineTauRows,
    baselineTrendRows: config.baselineTrendRows,
    trendAlignment: config.trendAlignment,
    baselineClip: config.baselineClip,
  });
}

/**
 * One device's rows baselined the way online scoring baselines them, for whatever re-reads the rows
 * outside the detector (`detect train`, a replay's re-score): the device's group model runs beside its
 * stream, fitted and refitted on the same rows, and each fit hands the stream the relations that steer its
 * trend and clip its update (see DeviceStream). Without it the stream follows no trend and clips nothing,
 * and its rows differ from the online ones while a trend builds. What it does not repeat is the online
 * hold, which follows the autoencoder's verdicts.
 */
export class RelatedDeviceStream {
  private readonly stream: DeviceStream;
  private readonly group: GroupLifecycle<undefined>;

  constructor(config: DetectorsConfig) {
    this.stream = deviceStream(config);
    this.group = new GroupLifecycle<undefined>({
      features: config.metrics,
      ...groupLifecycleOptions(config),
    });
  }

  push(window: AssembledWindow): StreamWindow {
    const next = this.stream.push(window);
    for (const row of next.added) {
      const event = this.group.push(row.residual, undefined);
      if (event && event.kind !== 'error' && this.group.model)
        this.stream.relations = baselineRelations(this.group.model);
    }
    return next;
  }
}
