import type { DeviceLifecycle, DeviceLogRecord, TelemetrySample } from '@sentio/events';
import type { HealthReport, Logger } from '@sentio/observability';
import type { z } from 'zod';
import type { ConnectorMetrics } from './connector-metrics.util.js';

/** The protocols a dead letter can come from: what its `origin` is an address in. */
export type ConnectorProtocol = 'mqtt' | 'modbus' | 'opcua' | 'home-assistant';

/** Input a connector could not turn into events, kept byte for byte with where it came from. */
export interface RawDeadLetter {
  protocol: ConnectorProtocol;
  /**
   * What an operator needs to find the sender: an MQTT topic, host:port/unit/table:address for Modbus, a
   * node id for OPC UA, `api/states/<entity id>` or `api/websocket` for Home Assistant.
   */
  origin: string;
  key: string | null;
  /** The input as received: MQTT payload, register bytes, OPC UA binary DataValue, WebSocket message. */
  payload: Buffer;
  reason: string;
  /** Protocol details beyond the origin, as `sentio.connector.<name>` headers (`opcua.status_code`). */
  attributes?: Record<string, string>;
  /** Keep only this many bytes of the payload (an oversized input); its size and hash are kept in full. */
  keepBytes?: number;
}

/**
 * Where a connector's events go. Every method resolves only once Kafka has acknowledged the records, so a
 * connector may acknowledge its input (an MQTT PUBACK) on that and lose nothing.
 */
export interface EventSink {
  telemetry(samples: TelemetrySample[]): Promise<void>;
  lifecycle(events: DeviceLifecycle[]): Promise<void>;
  logs(records: DeviceLogRecord[]): Promise<void>;
  deadLetter(letter: RawDeadLetter): Promise<void>;
}

export interface ConnectorContext {
  sink: EventSink;
  metrics: ConnectorMetrics;
  logger: Logger;
  /**
   * In a connectors group: false while this process's membership may have lapsed (it has not heard from
   * the group for nearly a session timeout, e.g. after a stall), when its devices may be someone else's.
   * Checked right before each read and each value published; absent outside a group.
   */
  mayRead?: () => boolean;
}

/** A running connector instance: one broker session or one set of polled devices. */
export interface Connector {
  readonly name: string;
  /** Resolves after the first connection attempt; later failures are retried in the background. */
  start(): Promise<void>;
  /** Stops taking input, waits for what was taken to reach Kafka, then disconnects. */
  stop(): Promise<void>;
  health(): HealthReport;
  /**
   * In a connectors group, instead of `start`: read only the devices `owns` accepts, starting and stopping
   * devices as that changes (called after every rebalance, and with nothing owned before `stop`). A type
   * without it is one unit (a broker session), started and stopped whole by the group.
   */
  assign?(owns: (deviceId: string) => boolean): Promise<void>;
}

/** One kind of connector: how its configuration must look, and how an instance is made from it. */
export interface ConnectorType<C extends { name: string; type: string }> {
  readonly type: C['type'];
  readonly configSchema: z.ZodType<C, unknown>;
  create(config: C, context: ConnectorContext): Connector;
}
