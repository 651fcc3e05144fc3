import { randomUUID } from 'node:crypto';
import type { DeviceLogRecord, Severity, TelemetrySample } from '@sentio/events';
import {
  AttributeIds,
  BinaryStream,
  BrowseDirection,
  DataChangeFilter,
  DataChangeTrigger,
  DataType,
  DeadbandType,
  NodeClass,
  TimestampsToReturn,
  type BrowseResult,
  type ClientMonitoredItemBase,
  type ClientSession,
  type ClientSubscription,
  type DataValue,
} from 'node-opcua';
import type { ConnectorContext } from '../connector.type.js';
import { stableEventId } from '../event-id.util.js';
import type { OpcuaConfig } from './opcua.config.js';
import { discoverVariables, type BrowsedChild } from './opcua-browse.util.js';
import {
  monitoringKey,
  monitoringOf,
  numericValue,
  qualityOf,
  type Monitoring,
} from './opcua-values.util.js';

/** One monitored variable and what its values become. */
export interface MonitoredNode {
  nodeId: string;
  deviceId: string;
  metric: string;
  unit: string | undefined;
  monitoring: Monitoring;
}

// Servers cap CreateMonitoredItems per call (MaxMonitoredItemsPerCall); a thousand is below common limits.
const ITEMS_PER_CALL = 1000;
// HasProperty children (EURange, EngineeringUnits ...) describe a variable; they are not measurements.
const HAS_PROPERTY = 'ns=0;i=46';

/**
 * The subscription half of the OPC UA connector: which variables are monitored (configured and browsed),
 * the monitored items, and their changes as telemetry, batched per publish response, or as dead letters,
 * in the order they arrived. The session and security half is opcua-session.util.ts.
 */
export class OpcuaMonitor {
  /** The variables monitored by this process: all resolved ones, or a group's share of the devices. */
  nodes: MonitoredNode[] = [];
  /** Every variable the config and browse rules resolved to. */
  resolved: MonitoredNode[] = [];
  failedNodes = 0;
  /** In a connectors group: the devices this process reads. */
  owns: (deviceId: string) => boolean = () => true;
  /** The monitored items by node id, so a device handed to another process is unmonitored alone. */
  private readonly items = new Map<string, ClientMonitoredItemBase>();
  /** Node ids whose changes this process publishes (set before their items exist: no first value lost). */
  private readonly active = new Set<string>();
  /** Nodes whose values are not numbers: each value is dead-lettered, the node logged once. */
  private readonly unmappable = new Set<string>();
  private pending: TelemetrySample[] = [];
  private flushScheduled = false;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: OpcuaConfig,
    private readonly context: ConnectorContext,
    private readonly source: string,
  ) {}

  /** Resolves once every change taken so far is with Kafka. */
  drained(): Promise<void> {
    return this.flushing;
  }

  /** The configured nodes and those the browse rules find; explicit nodes and earlier rules win. */
  async resolveNodes(session: ClientSession): Promise<MonitoredNode[]> {
    const nodes: MonitoredNode[] = this.config.nodes.map((n) => ({
      nodeId: n.nodeId,
      deviceId: n.deviceId,
      metric: n.metric,
      unit: n.unit,
      monitoring: monitoringOf(n, this.config.monitoring),
    }));
    const taken = new Set(nodes.flatMap((n) => [`${n.deviceId}/${n.metric}`, n.nodeId]));
    for (const rule of this.config.browse) {
      const found = await discoverVariables((ids) => this.browse(session, ids), rule);
      if (found.length === 0)
        this.context.logger.warn({ root: rule.root, path: rule.path }, 'browse rule matched no variable');
      for (const variable of found) {
        const key = `${variable.deviceId}/${variable.metric}`;
        // Explicit nodes and earlier rules win: one series per device and metric, one per variable.
        if (taken.has(key) || taken.has(variable.nodeId)) continue;
        taken.add(key).add(variable.nodeId);
        nodes.push({
          nodeId: variable.nodeId,
          deviceId: variable.deviceId,
          metric: variable.metric,
          unit: rule.unit,
          monitoring: monitoringOf(rule, this.config.monitoring),
        });
      }
    }
    this.resolved = nodes;
    this.nodes = nodes.filter((n) => this.owns(n.deviceId));
    return this.nodes;
  }

  /**
   * Follows a new share of the devices on the running subscription: items of devices lost are deleted,
   * items of devices gained created, the others left alone (no gap, no repeated initial values).
   * Returns the devices gained.
   */
  async reassign(subscription: ClientSubscription | undefined): Promise<Set<string>> {
    const next = this.resolved.filter((n) => this.owns(n.deviceId));
    const before = new Set(this.nodes.map((n) => n.nodeId));
    const after = new Set(next.map((n) => n.nodeId));
    const lost = this.nodes.filter((n) => !after.has(n.nodeId));
    const gained = next.filter((n) => !before.has(n.nodeId));
    this.nodes = next;
    for (const n of lost) this.active.delete(n.nodeId);
    if (!subscription) return new Set(gained.map((n) => n.deviceId));
    await Promise.all(
      lost.map(async (n) => {
        const item = this.items.get(n.nodeId);
        this.items.delete(n.nodeId);
        await item?.terminate().catch(() => undefined);
      }),
    );
    await this.monitor(subscription, gained);
    return new Set(gained.map((n) => n.deviceId));
  }

  private async browse(session: ClientSession, nodeIds: string[]): Promise<BrowsedChild[][]> {
    const results: BrowseResult[] = await session.browse(
      nodeIds.map((nodeId) => ({
        nodeId,
        browseDirection: BrowseDirection.Forward,
        referenceTypeId: 'HierarchicalReferences',
        includeSubtypes: true,
        nodeClassMask: NodeClass.Object | NodeClass.Variable,
        resultMask: 0x3f,
      })),
    );
    const children: BrowsedChild[][] = [];
    for (const result of results) {
      const references = [...(result.references ?? [])];
      let continuation = result.continuationPoint;
      while (continuation && continuation.length > 0) {
        const next = await session.browseNext(continuation, false);
        references.push(...(next.references ?? []));
        continuation = next.continuationPoint;
      }
      children.push(
        references
          .filter((r) => r.referenceTypeId.toString() !== HAS_PROPERTY)
          .map((r) => ({
            nodeId: r.nodeId.toString(),
            name: r.browseName.name ?? '',
            nodeClass:
              r.nodeClass === NodeClass.Object
                ? 'Object'
                : r.nodeClass === NodeClass.Variable
                  ? 'Variable'
                  : 'Other',
          })),
      );
    }
    return children;
  }

  /** Creates the subscription and monitors every resolved node, grouped by their monitoring settings. */
  async subscribe(session: ClientSession): Promise<ClientSubscription> {
    const s = this.config.subscription;
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: s.publishingIntervalMs,
      requestedMaxKeepAliveCount: s.maxKeepAliveCount,
      requestedLifetimeCount: s.lifetimeCount,
      maxNotificationsPerPublish: s.maxNotificationsPerPublish,
      publishingEnabled: true,
      priority: 10,
    });
    this.items.clear();
    this.active.clear();
    this.failedNodes = 0;
    await this.monitor(subscription, this.nodes);
    return subscription;
  }

  /** Monitors the nodes, grouped by their monitoring settings. */
  private async monitor(subscription: ClientSubscription, nodes: MonitoredNode[]): Promise<void> {
    const groups = new Map<string, MonitoredNode[]>();
    for (const node of nodes) {
      const key = monitoringKey(node.monitoring);
      groups.set(key, [...(groups.get(key) ?? []), node]);
    }
    const logs: DeviceLogRecord[] = [];
    for (const members of groups.values()) {
      const m = members[0]!.monitoring;
      for (let from = 0; from < members.length; from += ITEMS_PER_CALL) {
        const chunk = members.slice(from, from + ITEMS_PER_CALL);
        for (const n of chunk) this.active.add(n.nodeId);
        const group = await subscription.monitorItems(
          chunk.map((n) => ({ nodeId: n.nodeId, attributeId: AttributeIds.Value })),
          {
            samplingInterval: m.samplingIntervalMs,
            queueSize: m.queueSize,
            discardOldest: true,
            filter: m.deadband
              ? new DataChangeFilter({
                  trigger: DataChangeTrigger.StatusValue,
                  deadbandType: m.deadband.type === 'absolute' ? DeadbandType.Absolute : DeadbandType.Percent,
                  deadbandValue: m.deadband.value,
                })
              : null,
          },
          TimestampsToReturn.Both,
        );
        group.on('changed', (_item: ClientMonitoredItemBase, value: DataValue, index: number) =>
          this.changed(chunk[index]!, value),
        );
        group.monitoredItems.forEach((item, i) => {
          this.items.set(chunk[i]!.nodeId, item);
          if (item.statusCode.isGood()) return;
          this.failedNodes++;
          const node = chunk[i]!;
          this.context.metrics.error('monitor');
          logs.push(
            this.log(
              node.deviceId,
              'ERROR',
              `cannot monitor ${node.nodeId} (${node.metric}): ${item.statusCode.toString()}`,
              {
                node_id: node.nodeId,
                status_code: item.statusCode.name,
              },
            ),
          );
        });
      }
    }
    await this.context.sink.logs(logs);
  }

  private changed(node: MonitoredNode, dataValue: DataValue): void {
    // A device handed to another process: a notification already on its way is that process's to give.
    if (!this.active.has(node.nodeId) || this.context.mayRead?.() === false) return;
    this.context.metrics.messageIn();
    const quality = qualityOf(dataValue.statusCode.value);
    const variant = dataValue.value;
    let value: number | null = null;
    if (quality !== 'BAD' && variant) {
      const n = numericValue(variant.dataType, variant.value, variant.arrayType);
      if (n instanceof Error) {
        this.context.metrics.error('unmappable');
        if (!this.unmappable.has(node.nodeId)) {
          this.unmappable.add(node.nodeId);
          this.context.logger.warn(
            { nodeId: node.nodeId, metric: node.metric, reason: n.message },
            'OPC UA values not mappable to a sample: dead-lettered',
          );
        }
        this.enqueueDeadLetter(node, dataValue, n.message);
        return;
      }
      value = n;
    }
    const timestampMs =
      dataValue.sourceTimestamp?.getTime() ?? dataValue.serverTimestamp?.getTime() ?? Date.now();
    this.pending.push({
      eventId: stableEventId(this.source, node.deviceId, node.metric, timestampMs),
      deviceId: node.deviceId,
      timestampMs,
      metric: node.metric,
      value,
      unit: node.unit ?? null,
      quality,
      labels: this.config.labels,
      source: this.source,
    });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // One publish response carries many changes, each a separate event here: sent as one batch.
      setImmediate(() => this.flush());
    }
  }

  /** Queues the samples taken so far ahead of what comes next (a dead letter). */
  private flushPending(): void {
    if (this.pending.length > 0) this.flush();
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.flushing = this.flushing.then(() =>
      this.context.sink.telemetry(batch).catch((error: unknown) => {
        // OPC UA has no per-value acknowledgement to withhold: what Kafka refused after retries is lost.
        this.context.metrics.error('publish');
        this.context.logger.error(
          { err: error, samples: batch.length },
          'OPC UA values not delivered to Kafka',
        );
      }),
    );
  }

  /**
   * A value that is no sample, to the DLQ: the DataValue in OPC UA binary encoding (what the server sent,
   * decodable by any OPC UA stack), the node id as origin, StatusCode and data type in headers. Queued
   * behind the telemetry already taken, as the changes arrived.
   */
  private enqueueDeadLetter(node: MonitoredNode, dataValue: DataValue, problem: string): void {
    const stream = new BinaryStream(dataValue.binaryStoreSize());
    dataValue.encode(stream);
    const variant = dataValue.value;
    const preview = JSON.stringify(variant.value, (_key, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    );
    const letter = {
      protocol: 'opcua' as const,
      origin: node.nodeId,
      key: node.deviceId,
      payload: stream.buffer,
      reason: `${node.nodeId} (${node.metric}): ${problem}, got ${preview?.slice(0, 200) ?? 'nothing'}`,
      attributes: {
        'opcua.node_id': node.nodeId,
        'opcua.status_code': dataValue.statusCode.toString(),
        'opcua.data_type': `${DataType[variant.dataType] ?? variant.dataType}${variant.arrayType ? '[]' : ''}`,
        'opcua.endpoint': this.config.endpointUrl,
      },
    };
    this.flushPending();
    this.flushing = this.flushing.then(() =>
      this.context.sink.deadLetter(letter).catch((error: unknown) => {
        this.context.metrics.error('publish');
        this.context.logger.error({ err: error, nodeId: node.nodeId }, 'OPC UA dead letter not delivered');
      }),
    );
  }

  private log(
    deviceId: string,
    severity: Severity,
    body: string,
    attributes: Record<string, string>,
  ): DeviceLogRecord {
    return {
      eventId: randomUUID(),
      deviceId,
      timestampMs: Date.now(),
      severity,
      body,
      attributes: { ...attributes, endpoint: this.config.endpointUrl },
      traceId: null,
      spanId: null,
      source: this.source,
    };
  }
}
