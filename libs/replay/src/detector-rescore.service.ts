import { Inject, Injectable, Optional } from '@nestjs/common';
import { AnomalyRescoresRepository, ClickHouseStore } from '@sentio/clickhouse';
import { initTfBackend, type DetectorsConfig } from '@sentio/detectors';
import { EVENT_TOPICS, KAFKA, StreamCodecs, type EventTopics } from '@sentio/kafka';
import { LOGGER, type Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import { rescoreDetectors, type RescoreRequest, type RescoreResult } from './detector-rescore.js';
import { ForecastRescoresRepository, type ForecastTally } from './forecast-rescores.repository.js';
import { DETECTORS_SETTINGS } from './replay.tokens.js';
import { compareVersions, type FaultInterval, type VersionComparison } from './version-compare.util.js';

export interface ComparisonReport {
  /** Flagged windows per source and model version, with precision and recall when labels were given. */
  anomalies: VersionComparison[];
  /** Forecasts per source and model version, and how many saw a MEDIUM or HIGH risk. */
  forecasts: Array<{ source: string; modelVersion: string; forecasts: number; atRisk: number }>;
}

/**
 * Re-scoring history with a stored model version and comparing versions, for the CLI and the admin API alike.
 * Runs in the process that holds ClickHouse (with the embedded engine, the running platform).
 */
@Injectable()
export class DetectorRescoreService {
  private readonly anomalies: AnomalyRescoresRepository;
  private readonly forecasts: ForecastRescoresRepository;
  private readonly logger: Logger;

  constructor(
    @Inject(ClickHouseStore) store: ClickHouseStore,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(StreamCodecs) private readonly codecs: StreamCodecs,
    @Inject(LOGGER) logger: Logger,
    @Optional() @Inject(DETECTORS_SETTINGS) private readonly config?: DetectorsConfig,
  ) {
    this.anomalies = new AnomalyRescoresRepository(store);
    this.forecasts = new ForecastRescoresRepository(store);
    this.logger = logger.child({ component: 'replay' });
  }

  async rescore(request: RescoreRequest): Promise<RescoreResult> {
    if (!this.config) throw new Error('re-scoring needs the detectors configuration');
    if (!(request.fromMs < request.toMs)) throw new Error('from must be before to');
    await initTfBackend(this.logger);
    return rescoreDetectors(
      {
        kafka: this.kafka,
        codecs: this.codecs,
        topic: this.topics.telemetry,
        rescores: this.anomalies,
        forecasts: this.forecasts,
        config: this.config,
        logger: this.logger,
      },
      request,
    );
  }

  async compare(
    range: { fromMs: number; toMs: number; devices?: readonly string[] },
    labels?: readonly FaultInterval[],
  ): Promise<ComparisonReport> {
    const tally: ForecastTally[] = await this.forecasts.tally(range);
    return {
      anomalies: compareVersions(await this.anomalies.flagged(range), labels),
      forecasts: tally.map((t) => ({
        source: t.source,
        modelVersion: t.model_version,
        forecasts: Number(t.forecasts),
        atRisk: Number(t.at_risk),
      })),
    };
  }
}
