import { randomUUID } from 'node:crypto';
import type {
  DeviceLifecycle,
  DeviceLogRecord,
  LifecycleKind,
  Severity,
  TelemetrySample,
} from '@sentio/events';
import type { HealthReport } from '@sentio/observability';
import type { Connector, ConnectorContext, ConnectorType } from '../connector.type.js';
import { stableEventId } from '../event-id.util.js';
import { MqttSession } from '../mqtt/mqtt-session.util.js';
import { sampleProblem } from '../sample-checks.util.js';
import { zigbee2mqttConfigSchema, type Zigbee2mqttConfig } from './zigbee2mqtt.config.js';
import {
  lastSeenMs,
  metricDescriptors,
  parseAvailability,
  parseBridgeDevices,
  stateProblems,
  stateValues,
  type Z2mDevice,
} from './z2m-devices.util.js';

const severities: Record<string, Severity> = {
  debug: 'DEBUG',
  info: 'INFO',
  warning: 'WARN',
  warn: 'WARN',
  error: 'ERROR',
};

/** Bridge topics whose content is neither telemetry nor a log line. */
const ignoredCommand = /\/(set|get)(\/.*)?$/;

/**
 * A Zigbee2MQTT bridge. Devices and their exposes come from the retained `<base>/bridge/devices`, read by
 * a separate clean session: the persistent session's queued state messages arrive right after it
 * reconnects, before any subscription could deliver the retained list, and cannot be mapped without it.
 */
export class Zigbee2mqttConnector implements Connector {
  readonly name: string;
  private readonly source: string;
  private readonly base: string;
  private readonly session: MqttSession;
  private readonly discovery: MqttSession;
  private readonly byIeee = new Map<string, { device: Z2mDevice; signature: string }>();
  private readonly byName = new Map<string, Z2mDevice>();
  private groups = new Set<string>();
  private readonly online = new Map<string, boolean>();
  private devicesKnown = false;
  private readonly known: Promise<void>;
  private markKnown: () => void = () => undefined;
  private stopping = false;
  private bridgeState: string | undefined;

  constructor(
    private readonly config: Zigbee2mqttConfig,
    private readonly context: ConnectorContext,
  ) {
    this.name = config.name;
    this.source = `zigbee2mqtt:${config.name}`;
    this.base = config.baseTopic;
    this.known = new Promise((resolve) => (this.markKnown = resolve));
    const clientId = config.clientId ?? `sentio-${config.name}`;
    const common = {
      connection: config,
      qos: config.qos,
      metrics: context.metrics,
      logger: context.logger,
      deadLetter: (origin: string, payload: Buffer, reason: string, keepBytes?: number) =>
        context.sink.deadLetter({ protocol: 'mqtt' as const, origin, key: null, payload, reason, keepBytes }),
    };
    this.discovery = new MqttSession({
      ...common,
      clientId: `${clientId}-discovery`,
      clean: true,
      filters: [`${this.base}/bridge/devices`, `${this.base}/bridge/groups`],
      handler: (topic, payload) => this.discover(topic, payload),
    });
    this.session = new MqttSession({
      ...common,
      clientId,
      clean: false,
      filters: [`${this.base}/#`],
      handler: (topic, payload) => this.handle(topic, payload),
    });
  }

  async start(): Promise<void> {
    await this.discovery.start();
    await this.session.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // A message waiting for the device list is released and left unacknowledged.
    this.markKnown();
    await this.session.stop();
    await this.discovery.stop();
  }

  health(): HealthReport {
    const session = this.session.health();
    const detail = { ...session.detail, devices: this.byIeee.size, bridge: this.bridgeState ?? null };
    if (session.state === 'up' && !this.devicesKnown) {
      return { state: 'degraded', detail: { ...detail, waiting: `${this.base}/bridge/devices` } };
    }
    if (session.state === 'up' && this.bridgeState === 'offline') return { state: 'degraded', detail };
    return { state: session.state, detail };
  }

  private async discover(topic: string, payload: Buffer): Promise<void> {
    this.context.metrics.messageIn();
    let document: unknown;
    try {
      document = JSON.parse(payload.toString('utf8'));
    } catch (error) {
      return this.reject(topic, payload, `not valid JSON: ${(error as Error).message}`);
    }
    if (topic.endsWith('/groups')) {
      if (!Array.isArray(document)) return this.reject(topic, payload, 'bridge/groups is not a JSON array');
      const names = (document as Array<{ friendly_name?: unknown } | null>).map((g) => g?.friendly_name);
      if (names.some((n) => typeof n !== 'string'))
        await this.reject(topic, payload, 'bridge/groups: a group without a friendly_name string');
      this.groups = new Set(names.filter((n): n is string => typeof n === 'string'));
      return;
    }
    const devices = parseBridgeDevices(document);
    if (devices instanceof Error) return this.reject(topic, payload, devices.message);
    await this.context.sink.lifecycle(this.applyDevices(devices, Date.now()));
    this.devicesKnown = true;
    this.markKnown();
  }

  /** Replaces the device list, returning what changed as lifecycle events. */
  private applyDevices(devices: Z2mDevice[], now: number): DeviceLifecycle[] {
    const events: DeviceLifecycle[] = [];
    const seen = new Set<string>();
    this.byName.clear();
    for (const device of devices) {
      seen.add(device.ieeeAddress);
      this.byName.set(device.friendlyName, device);
      const signature = JSON.stringify(device);
      const previous = this.byIeee.get(device.ieeeAddress);
      if (previous?.signature === signature) continue;
      this.byIeee.set(device.ieeeAddress, { device, signature });
      const online = this.online.get(device.ieeeAddress) ?? true;
      events.push(this.lifecycle(device, previous ? 'UPDATED' : 'DISCOVERED', online, now));
    }
    for (const [ieee, { device }] of this.byIeee) {
      if (seen.has(ieee)) continue;
      this.byIeee.delete(ieee);
      events.push(this.lifecycle(device, 'REMOVED', false, now));
    }
    return events;
  }

  private async handle(topic: string, payload: Buffer): Promise<void> {
    const { metrics, sink } = this.context;
    metrics.messageIn();
    const rest = topic.slice(this.base.length + 1);
    if (rest.startsWith('bridge/')) return this.bridge(rest, topic, payload);
    if (!this.devicesKnown) await this.known;
    if (this.stopping) throw new Error('connector stopping');

    if (rest.endsWith('/availability')) {
      const name = rest.slice(0, -'/availability'.length);
      const device = this.byName.get(name);
      if (!device)
        return this.groups.has(name) ? undefined : this.reject(topic, payload, `unknown device "${name}"`);
      const state = parseAvailability(payload.toString('utf8'));
      if (state instanceof Error) return this.reject(topic, payload, state.message);
      const online = state === 'online';
      this.online.set(device.ieeeAddress, online);
      return sink.lifecycle([this.lifecycle(device, online ? 'ONLINE' : 'OFFLINE', online, Date.now())]);
    }
    const device = this.byName.get(rest);
    if (!device) {
      if (this.groups.has(rest) || ignoredCommand.test(rest)) return;
      return this.reject(topic, payload, `unknown device "${rest}": not in ${this.base}/bridge/devices`);
    }
    let state: unknown;
    try {
      state = JSON.parse(payload.toString('utf8'));
    } catch (error) {
      return this.reject(topic, payload, `state is not valid JSON: ${(error as Error).message}`);
    }
    if (state === null || typeof state !== 'object' || Array.isArray(state)) {
      return this.reject(topic, payload, 'state is not a JSON object');
    }
    const record = state as Record<string, unknown>;
    const now = Date.now();
    const timestampMs = lastSeenMs(record) ?? now;
    const labels = this.labels(device);
    const samples: TelemetrySample[] = stateValues(device, record).map(({ value, number }) => ({
      eventId: stableEventId(this.source, device.ieeeAddress, value.metric, timestampMs, number),
      deviceId: device.ieeeAddress,
      timestampMs,
      metric: value.metric,
      value: number,
      unit: value.unit,
      quality: 'GOOD',
      labels,
      source: this.source,
    }));
    const problem = samples.map((sample) => sampleProblem(sample, now)).find((p) => p !== undefined);
    if (problem) return this.reject(topic, payload, problem);
    await sink.telemetry(samples);
    // The values that could be read are in; the message goes to the DLQ for the ones that could not.
    const unreadable = stateProblems(device, record);
    if (unreadable.length > 0) await this.reject(topic, payload, unreadable.join('; '));
  }

  private async bridge(rest: string, topic: string, payload: Buffer): Promise<void> {
    const text = payload.toString('utf8');
    if (rest === 'bridge/state') {
      const state = parseAvailability(text);
      if (state instanceof Error) return this.reject(topic, payload, `bridge/state: ${state.message}`);
      this.bridgeState = state;
      return this.context.sink.logs([
        this.log(state === 'online' ? 'INFO' : 'WARN', `bridge ${state}`, { state }),
      ]);
    }
    if (rest === 'bridge/logging') {
      let line: { level?: unknown; message?: unknown; namespace?: unknown };
      try {
        line = JSON.parse(text) as typeof line;
      } catch (error) {
        return this.reject(topic, payload, `bridge/logging is not valid JSON: ${(error as Error).message}`);
      }
      if (typeof line?.message !== 'string') {
        return this.reject(topic, payload, 'bridge/logging: expected {"level", "message"}');
      }
      const attributes: Record<string, string> = {};
      if (typeof line.namespace === 'string') attributes['namespace'] = line.namespace;
      return this.context.sink.logs([
        this.log(severities[String(line.level)] ?? 'INFO', line.message, attributes),
      ]);
    }
    // bridge/devices is the discovery session's; info, event, response/... carry no device data.
  }

  private labels(device: Z2mDevice): Record<string, string> {
    return { ...this.config.labels, friendly_name: device.friendlyName };
  }

  private lifecycle(
    device: Z2mDevice,
    kind: LifecycleKind,
    online: boolean,
    timestampMs: number,
  ): DeviceLifecycle {
    return {
      eventId: randomUUID(),
      deviceId: device.ieeeAddress,
      timestampMs,
      kind,
      // Zigbee2MQTT's Router/EndDevice, as zigbee_router, zigbee_end_device.
      deviceType: `zigbee_${device.type.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()}`,
      vendor: device.vendor,
      model: device.model,
      connector: this.source,
      online,
      labels: this.labels(device),
      metrics: metricDescriptors(device),
    };
  }

  private log(severity: Severity, body: string, attributes: Record<string, string>): DeviceLogRecord {
    return {
      eventId: randomUUID(),
      deviceId: this.source,
      timestampMs: Date.now(),
      severity,
      body,
      attributes: { ...attributes, base_topic: this.base },
      traceId: null,
      spanId: null,
      source: this.source,
    };
  }

  private async reject(topic: string, payload: Buffer, reason: string): Promise<void> {
    this.context.metrics.error('unmappable');
    await this.context.sink.deadLetter({ protocol: 'mqtt', origin: topic, key: null, payload, reason });
  }
}

export const zigbee2mqttConnectorType: ConnectorType<Zigbee2mqttConfig> = {
  type: 'zigbee2mqtt',
  configSchema: zigbee2mqttConfigSchema,
  create: (config, context) => new Zigbee2mqttConnector(config, context),
};
