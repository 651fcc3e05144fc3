/** What the evaluator consumes, decoded from the Kafka streams (or from ClickHouse for a backtest). */
export type EngineInput =
  | {
      type: 'sample';
      deviceId: string;
      ts: number;
      metric: string;
      value: number | null;
      quality: 'GOOD' | 'UNCERTAIN' | 'BAD';
      labels?: Record<string, string>;
    }
  | { type: 'anomaly'; deviceId: string; ts: number; score: number; threshold: number; topMetric?: string }
  | {
      type: 'forecast';
      deviceId: string;
      ts: number;
      metric: string;
      risk: 'NONE' | 'LOW' | 'MEDIUM' | 'HIGH';
      timeToFailureMs: number | null;
    }
  | { type: 'log'; deviceId: string; ts: number; severity: string; body: string }
  | {
      type: 'device';
      deviceId: string;
      ts: number;
      deviceType: string | null;
      labels: Record<string, string>;
      removed: boolean;
    };

export type ConditionStatus = 'alerting' | 'normal' | 'nodata' | 'error';

export interface ConditionResult {
  status: ConditionStatus;
  /** The observed value that decided it (aggregate, score, time to failure in ms, count). */
  value: number | null;
  /** Template values and the explanation: metric, threshold, aggregation, risk... */
  detail: Record<string, string | number>;
  /** The explanation, when it is costly to build eagerly (detail.explanation otherwise). */
  explain?: () => string;
}
