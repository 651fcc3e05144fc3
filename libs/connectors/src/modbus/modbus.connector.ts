import { randomUUID } from 'node:crypto';
import type {
  DeviceLifecycle,
  DeviceLogRecord,
  LifecycleKind,
  Severity,
  TelemetrySample,
} from '@sentio/events';
import type { HealthReport } from '@sentio/observability';
import modbusSerial from 'modbus-serial';
import type { Connector, ConnectorContext, ConnectorType } from '../connector.type.js';
import { stableEventId } from '../event-id.util.js';
import { backoffMs } from '../common/backoff.util.js';
import { modbusConfigSchema, type ModbusConfig, type ModbusDevice } from './modbus.config.js';
import {
  planBlocks,
  pointValue,
  registerCount,
  type DecodablePoint,
  type ReadBlock,
} from './modbus-registers.util.js';

// modbus-serial is CommonJS; its `default` is the client class in both its typings and at run time.
const ModbusRTU = modbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

type Point = DecodablePoint & { metric: string; unit?: string | undefined };

interface ReadError extends Error {
  modbusCode?: number;
  errno?: string;
}

/** Read failures that leave the connection usable: the device answered with an exception, or was slow. */
function keepsConnection(error: ReadError): boolean {
  return error.modbusCode !== undefined || error.errno === 'ETIMEDOUT';
}

/** Polls one Modbus TCP device: block reads on a timer, never overlapping, reconnecting with backoff. */
class DevicePoller {
  private client: ModbusClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private stopped = false;
  private attempt = 0;
  private nextConnectAt = 0;
  private connected = false;
  private lastError: string | undefined;
  /** Each block's last failure, so a failure is logged when it starts or changes, not on every poll. */
  private readonly blockErrors = new Map<ReadBlock<Point>, string>();
  private readonly blocks: Array<ReadBlock<Point>>;
  private readonly origin: string;

  constructor(
    private readonly device: ModbusDevice,
    private readonly config: ModbusConfig,
    private readonly context: ConnectorContext,
    private readonly source: string,
  ) {
    this.origin = `${device.host}:${device.port}/${device.unitId}`;
    this.blocks = planBlocks(
      device.points.map((p) => ({
        ...p,
        byteOrder: p.byteOrder ?? device.byteOrder,
        wordOrder: p.wordOrder ?? device.wordOrder,
      })),
      device.maxGap,
    );
  }

  async start(): Promise<void> {
    await this.context.sink.lifecycle([this.lifecycle('DISCOVERED', false)]);
    this.polling = this.poll();
    await this.polling;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    await this.disconnect();
  }

  health(): HealthReport {
    return {
      state: !this.connected ? 'down' : this.lastError ? 'degraded' : 'up',
      detail: { id: this.device.id, origin: this.origin, error: this.lastError ?? null },
    };
  }

  private async poll(): Promise<void> {
    const started = Date.now();
    // A lapsed group membership: the device may be read by another process now; no read until it is clear.
    if (this.context.mayRead?.() === false) {
      this.schedule(started);
      return;
    }
    const done = this.context.metrics.pollTimer(this.device.id);
    const samples: TelemetrySample[] = [];
    const logs: DeviceLogRecord[] = [];
    const lifecycle: DeviceLifecycle[] = [];
    try {
      if (!this.connected && Date.now() >= this.nextConnectAt) await this.connect(logs, lifecycle);
      this.lastError = this.connected ? undefined : this.lastError;
      for (const block of this.blocks) {
        if (!this.connected) {
          for (const p of block.points) samples.push(this.sample(p, null, started));
          continue;
        }
        await this.read(block, started, samples, logs, lifecycle);
      }
      await this.context.sink.lifecycle(lifecycle);
      await this.context.sink.logs(logs);
      await this.context.sink.telemetry(samples);
    } catch (error) {
      // Only Kafka can fail here, after the producer's own retries: the poll's data is lost, polling goes on.
      this.context.metrics.error('publish');
      this.context.logger.error(
        { err: error, device: this.device.id },
        'poll results not delivered to Kafka',
      );
    } finally {
      done();
    }
    this.schedule(started);
  }

  private schedule(started: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(
      () => {
        this.polling = this.poll();
      },
      Math.max(0, started + this.device.pollIntervalMs - Date.now()),
    );
  }

  private async read(
    block: ReadBlock<Point>,
    timestampMs: number,
    samples: TelemetrySample[],
    logs: DeviceLogRecord[],
    lifecycle: DeviceLifecycle[],
  ): Promise<void> {
    const client = this.client!;
    const where = `${block.table} ${block.address}..${block.address + block.count - 1}`;
    let response: { bits?: boolean[]; registers?: Buffer };
    try {
      response = await this.request(client, block);
      this.context.metrics.messageIn();
    } catch (e) {
      const error = e as ReadError;
      this.context.metrics.error(
        error.modbusCode !== undefined ? 'exception' : error.errno === 'ETIMEDOUT' ? 'timeout' : 'read',
      );
      for (const p of block.points) samples.push(this.sample(p, null, timestampMs));
      if (this.blockErrors.get(block) !== error.message) {
        this.blockErrors.set(block, error.message);
        const attributes: Record<string, string> = {
          table: block.table,
          address: String(block.address),
          count: String(block.count),
          unit_id: String(this.device.unitId),
        };
        if (error.modbusCode !== undefined) attributes['exception_code'] = String(error.modbusCode);
        logs.push(this.log('ERROR', `read of ${where} failed: ${error.message}`, attributes));
      }
      this.lastError = `${where}: ${error.message}`;
      if (!keepsConnection(error)) await this.lost(error, logs, lifecycle);
      return;
    }
    if (this.blockErrors.delete(block))
      logs.push(
        this.log('INFO', `read of ${where} recovered`, {
          table: block.table,
          address: String(block.address),
        }),
      );
    for (const p of block.points) {
      const value = pointValue(block, response, p);
      if (Number.isFinite(value)) {
        samples.push(this.sample(p, value, timestampMs));
        continue;
      }
      // A NaN or infinite float is the device's way of saying "no reading": BAD, raw bytes kept for a look.
      samples.push(this.sample(p, null, timestampMs));
      const offset = (p.address - block.address) * 2;
      await this.context.sink.deadLetter({
        protocol: 'modbus',
        origin: `${this.origin}/${p.table}:${p.address}`,
        key: this.device.id,
        payload: Buffer.from(response.registers!.subarray(offset, offset + registerCount(p.type) * 2)),
        reason: `${p.metric} decodes to ${value} as ${p.type}`,
      });
    }
  }

  private async request(
    client: ModbusClient,
    block: ReadBlock<Point>,
  ): Promise<{ bits?: boolean[]; registers?: Buffer }> {
    switch (block.table) {
      case 'coil':
        return { bits: (await client.readCoils(block.address, block.count)).data };
      case 'discrete':
        return { bits: (await client.readDiscreteInputs(block.address, block.count)).data };
      case 'holding':
        return { registers: (await client.readHoldingRegisters(block.address, block.count)).buffer };
      case 'input':
        return { registers: (await client.readInputRegisters(block.address, block.count)).buffer };
    }
  }

  private async connect(logs: DeviceLogRecord[], lifecycle: DeviceLifecycle[]): Promise<void> {
    const client = new ModbusRTU();
    if (this.attempt > 0) this.context.metrics.reconnect();
    try {
      await client.connectTCP(this.device.host, { port: this.device.port, timeout: this.device.timeoutMs });
      client.setID(this.device.unitId);
      client.setTimeout(this.device.timeoutMs);
    } catch (error) {
      this.attempt++;
      this.nextConnectAt =
        Date.now() +
        backoffMs(this.attempt - 1, this.config.reconnect.initialMs, this.config.reconnect.maxMs);
      const message = (error as Error).message;
      if (this.lastError !== message)
        logs.push(this.log('ERROR', `cannot connect to ${this.origin}: ${message}`, {}));
      this.lastError = message;
      this.context.metrics.error('connect');
      client.close(() => undefined);
      return;
    }
    this.client = client;
    this.connected = true;
    this.attempt = 0;
    this.blockErrors.clear();
    lifecycle.push(this.lifecycle('ONLINE', true));
  }

  private async lost(error: Error, logs: DeviceLogRecord[], lifecycle: DeviceLifecycle[]): Promise<void> {
    logs.push(this.log('WARN', `connection to ${this.origin} lost: ${error.message}`, {}));
    lifecycle.push(this.lifecycle('OFFLINE', false));
    await this.disconnect();
    this.nextConnectAt = Date.now() + this.config.reconnect.initialMs;
    this.attempt = 1;
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    if (client?.isOpen) await new Promise<void>((resolve) => client.close(() => resolve()));
  }

  private sample(point: Point, value: number | null, timestampMs: number): TelemetrySample {
    return {
      eventId: stableEventId(this.source, this.device.id, point.metric, timestampMs),
      deviceId: this.device.id,
      timestampMs,
      metric: point.metric,
      value,
      unit: point.unit ?? null,
      quality: value === null ? 'BAD' : 'GOOD',
      labels: { ...this.config.labels, ...this.device.labels },
      source: this.source,
    };
  }

  private lifecycle(kind: LifecycleKind, online: boolean): DeviceLifecycle {
    return {
      eventId: randomUUID(),
      deviceId: this.device.id,
      timestampMs: Date.now(),
      kind,
      deviceType: this.device.deviceType ?? null,
      vendor: this.device.vendor ?? null,
      model: this.device.model ?? null,
      connector: this.source,
      online,
      labels: { ...this.config.labels, ...this.device.labels },
      metrics: this.device.points.map((p) => ({ name: p.metric, unit: p.unit ?? null })),
    };
  }

  private log(severity: Severity, body: string, attributes: Record<string, string>): DeviceLogRecord {
    return {
      eventId: randomUUID(),
      deviceId: this.device.id,
      timestampMs: Date.now(),
      severity,
      body,
      attributes: { ...attributes, origin: this.origin },
      traceId: null,
      spanId: null,
      source: this.source,
    };
  }
}

/** Modbus TCP devices polled for coils, discrete inputs, holding and input registers. */
export class ModbusConnector implements Connector {
  readonly name: string;
  /** The devices polled by this process, by id: all of them, or a group's share. */
  private readonly pollers = new Map<string, DevicePoller>();
  private assigning: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: ModbusConfig,
    private readonly context: ConnectorContext,
  ) {
    this.name = config.name;
  }

  async start(): Promise<void> {
    await this.assign(() => true);
  }

  async stop(): Promise<void> {
    await this.assign(() => false);
  }

  /** Each device is its own unit: only those gained start, only those lost stop, the rest keep polling. */
  assign(owns: (deviceId: string) => boolean): Promise<void> {
    const run = this.assigning.then(async () => {
      const lost = [...this.pollers].filter(([id]) => !owns(id));
      for (const [id] of lost) this.pollers.delete(id);
      await Promise.all(lost.map(([, poller]) => poller.stop()));
      const gained = this.config.devices
        .filter((d) => owns(d.id) && !this.pollers.has(d.id))
        .map((d) => {
          const poller = new DevicePoller(d, this.config, this.context, `modbus:${this.config.name}`);
          this.pollers.set(d.id, poller);
          return poller;
        });
      await Promise.all(gained.map((p) => p.start()));
    });
    this.assigning = run.catch(() => undefined); // the caller sees the failure; the next change still runs
    return run;
  }

  health(): HealthReport {
    const reports = [...this.pollers.values()].map((p) => p.health());
    const down = reports.filter((r) => r.state === 'down').length;
    const state =
      reports.length > 0 && down === reports.length
        ? 'down'
        : down > 0 || reports.some((r) => r.state === 'degraded')
          ? 'degraded'
          : 'up';
    return { state, detail: { devices: reports.map((r) => r.detail) } };
  }
}

export const modbusConnectorType: ConnectorType<ModbusConfig> = {
  type: 'modbus',
  configSchema: modbusConfigSchema,
  create: (config, context) => new ModbusConnector(config, context),
};
