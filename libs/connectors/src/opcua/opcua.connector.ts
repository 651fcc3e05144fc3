import { randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type {
  DeviceLifecycle,
  DeviceLogRecord,
  LifecycleKind,
  Severity,
  TelemetrySample,
} from '@sentio/events';
import type { HealthReport } from '@sentio/observability';
import {
  AttributeIds,
  BinaryStream,
  BrowseDirection,
  DataChangeFilter,
  DataChangeTrigger,
  DataType,
  DeadbandType,
  MessageSecurityMode,
  NodeClass,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
  type BrowseResult,
  type ClientSubscription,
  type ClientMonitoredItemBase,
  type ClientSession,
  type DataValue,
  type EndpointDescription,
  type UserIdentityInfo,
} from 'node-opcua';
import type { Connector, ConnectorContext, ConnectorType } from '../connector.type.js';
import { stableEventId } from '../event-id.util.js';
import { backoffMs } from '../common/backoff.util.js';
import { opcuaConfigSchema, type OpcuaConfig } from './opcua.config.js';
import { discoverVariables, type BrowsedChild } from './opcua-browse.util.js';
import {
  monitoringKey,
  monitoringOf,
  numericValue,
  qualityOf,
  type Monitoring,
} from './opcua-values.util.js';

/** One monitored variable and what its values become. */
interface MonitoredNode {
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
 * An OPC UA server's variables as telemetry, through one session with one subscription. The endpoint is
 * discovered first (so a missing security policy or an untrusted server certificate is named as such),
 * then the session is created and variables resolved, from the config and by browsing. After a lost
 * connection node-opcua reconnects on its own and re-activates the session, or creates a new one and
 * transfers (or recreates) the subscription, so the monitored items survive a server restart.
 */
export class OpcuaConnector implements Connector {
  readonly name: string;
  private readonly source: string;
  private client: OPCUAClient | undefined;
  private session: ClientSession | undefined;
  private subscription: ClientSubscription | undefined;
  private certificates: OPCUACertificateManager | undefined;
  private stopped = false;
  private attempt = 0;
  private wake: (() => void) | undefined;
  private retrying: Promise<void> = Promise.resolve();
  private connected = false;
  private lastError: string | undefined;
  private offered: string[] = [];
  private nodes: MonitoredNode[] = [];
  private failedNodes = 0;
  private readonly announced = new Set<string>();
  /** Nodes whose values are not numbers: each value is dead-lettered, the node logged once. */
  private readonly unmappable = new Set<string>();
  private pending: TelemetrySample[] = [];
  private flushScheduled = false;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: OpcuaConfig,
    private readonly context: ConnectorContext,
  ) {
    this.name = config.name;
    this.source = `opcua:${config.name}`;
  }

  async start(): Promise<void> {
    if (!(await this.connect())) this.retrying = this.retry();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.retrying;
    await this.teardown();
    await this.flushing;
    await this.certificates?.dispose();
  }

  health(): HealthReport {
    return {
      state: !this.connected ? 'down' : this.failedNodes > 0 || this.lastError ? 'degraded' : 'up',
      detail: {
        endpoint: this.config.endpointUrl,
        security: `${this.config.securityPolicy}/${this.config.securityMode}`,
        offered: this.offered,
        monitored: this.nodes.length - this.failedNodes,
        failed: this.failedNodes,
        error: this.lastError ?? null,
      },
    };
  }

  private async retry(): Promise<void> {
    while (!this.stopped) {
      const delay = backoffMs(this.attempt - 1, this.config.reconnect.initialMs, this.config.reconnect.maxMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (this.stopped || (await this.connect())) return;
    }
  }

  /** One attempt at the whole way up: discovery, trust, session, variables, subscription. */
  private async connect(): Promise<boolean> {
    if (this.attempt > 0) this.context.metrics.reconnect();
    try {
      this.certificates ??= await this.certificateManager();
      const endpoint = await this.discover(this.certificates);
      if (endpoint) await this.checkTrust(this.certificates, endpoint);
      const client = OPCUAClient.create({
        applicationName: 'Sentio',
        applicationUri: this.applicationUri(),
        clientCertificateManager: this.certificates,
        securityMode: MessageSecurityMode[this.config.securityMode],
        securityPolicy: SecurityPolicy[this.config.securityPolicy],
        // The advertised endpoint URL may name a host we cannot resolve: the configured one is used as is.
        endpointMustExist: false,
        // One quick retry for the first connection (our own loop backs off); once connected, node-opcua
        // retries a lost connection without end, within these bounds.
        connectionStrategy: {
          maxRetry: 1,
          initialDelay: this.config.reconnect.initialMs,
          maxDelay: this.config.reconnect.maxMs,
        },
        keepSessionAlive: true,
      });
      this.client = client;
      this.watch(client);
      await client.connect(this.config.endpointUrl);
      const session = await client.createSession(this.identity());
      this.session = session;
      this.nodes = await this.resolveNodes(session);
      await this.subscribe(session);
      this.connected = true;
      this.attempt = 0;
      this.lastError = undefined;
      await this.announce('ONLINE', true);
      this.context.logger.info(
        { endpoint: this.config.endpointUrl, monitored: this.nodes.length - this.failedNodes },
        'OPC UA session up',
      );
      return true;
    } catch (error) {
      this.attempt++;
      this.context.metrics.error('connect');
      const message = (error as Error).message;
      if (this.lastError !== message)
        this.context.logger.error(
          { endpoint: this.config.endpointUrl, err: error },
          'OPC UA connection failed',
        );
      this.lastError = message;
      await this.teardown();
      return false;
    }
  }

  private async certificateManager(): Promise<OPCUACertificateManager> {
    const manager = new OPCUACertificateManager({
      rootFolder: this.config.pki.folder,
      automaticallyAcceptUnknownCertificate: this.config.pki.autoTrust,
    });
    await manager.initialize();
    for (const file of this.config.pki.trustedServerCertificates) {
      await manager.trustCertificate(new X509Certificate(readFileSync(file)).raw);
    }
    return manager;
  }

  /**
   * Asks the server for its endpoints over an unsecured channel (GetEndpoints needs none) and returns the
   * one with the configured policy and mode, or throws naming what the server offers instead.
   */
  private async discover(certificates: OPCUACertificateManager): Promise<EndpointDescription | undefined> {
    const probe = OPCUAClient.create({
      applicationName: 'Sentio',
      applicationUri: this.applicationUri(),
      clientCertificateManager: certificates,
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0 },
    });
    let endpoints: EndpointDescription[];
    try {
      await probe.connect(this.config.endpointUrl);
      endpoints = await probe.getEndpoints();
    } finally {
      await probe.disconnect();
    }
    this.offered = endpoints.map(
      (e) => `${e.securityPolicyUri?.split('#')[1] ?? '?'}/${MessageSecurityMode[e.securityMode]}`,
    );
    const wanted = SecurityPolicy[this.config.securityPolicy];
    const mode = MessageSecurityMode[this.config.securityMode];
    const endpoint = endpoints.find((e) => e.securityPolicyUri === wanted && e.securityMode === mode);
    if (!endpoint) {
      throw new Error(
        `server offers no ${this.config.securityPolicy}/${this.config.securityMode} endpoint (offers ${[...new Set(this.offered)].join(', ')})`,
      );
    }
    return this.config.securityPolicy === 'None' ? undefined : endpoint;
  }

  private async checkTrust(
    certificates: OPCUACertificateManager,
    endpoint: EndpointDescription,
  ): Promise<void> {
    const certificate = endpoint.serverCertificate;
    if (!certificate || certificate.length === 0) throw new Error('server sent no certificate');
    const status = await certificates.getTrustStatus(certificate);
    if (status.isGood()) return;
    if (this.config.pki.autoTrust) {
      await certificates.trustCertificate(certificate);
      this.context.logger.warn(
        { endpoint: this.config.endpointUrl },
        'server certificate trusted on first sight (pki.autoTrust): for development only',
      );
      return;
    }
    await certificates.rejectCertificate(certificate);
    const thumbprint = new X509Certificate(certificate).fingerprint;
    throw new Error(
      `server certificate ${thumbprint} is not trusted: list it in pki.trustedServerCertificates or move it from ${this.config.pki.folder}/rejected to ${this.config.pki.folder}/trusted/certs`,
    );
  }

  private applicationUri(): string {
    return this.config.pki.applicationUri ?? `urn:${hostname()}:Sentio`;
  }

  private identity(): UserIdentityInfo {
    const identity = this.config.identity;
    switch (identity.type) {
      case 'anonymous':
        return { type: UserTokenType.Anonymous };
      case 'username':
        return { type: UserTokenType.UserName, userName: identity.username, password: identity.password };
      case 'certificate':
        return {
          type: UserTokenType.Certificate,
          certificateData: new X509Certificate(readFileSync(identity.certificate)).raw,
          privateKey: readFileSync(identity.privateKey, 'utf8'),
        };
    }
  }

  /** Follows node-opcua's own reconnection, so lifecycle and health say what the session is doing. */
  private watch(client: OPCUAClient): void {
    client.on('connection_lost', () => {
      if (this.stopped || !this.connected) return;
      this.connected = false;
      this.lastError = 'connection lost, reconnecting';
      this.context.logger.warn({ endpoint: this.config.endpointUrl }, 'OPC UA connection lost');
      void this.announce('OFFLINE', false).catch(() => undefined);
    });
    client.on('reconnection_attempt_has_failed', () => this.context.metrics.reconnect());
    client.on('after_reconnection', (error?: Error | null) => {
      if (this.stopped || error) return;
      this.connected = true;
      this.lastError = undefined;
      this.context.logger.info({ endpoint: this.config.endpointUrl }, 'OPC UA connection re-established');
      void this.announce('ONLINE', true).catch(() => undefined);
    });
  }

  private async resolveNodes(session: ClientSession): Promise<MonitoredNode[]> {
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
    return nodes;
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

  private async subscribe(session: ClientSession): Promise<void> {
    const s = this.config.subscription;
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: s.publishingIntervalMs,
      requestedMaxKeepAliveCount: s.maxKeepAliveCount,
      requestedLifetimeCount: s.lifetimeCount,
      maxNotificationsPerPublish: s.maxNotificationsPerPublish,
      publishingEnabled: true,
      priority: 10,
    });
    this.subscription = subscription;
    await this.announce('DISCOVERED', false);
    const groups = new Map<string, MonitoredNode[]>();
    for (const node of this.nodes) {
      const key = monitoringKey(node.monitoring);
      groups.set(key, [...(groups.get(key) ?? []), node]);
    }
    const logs: DeviceLogRecord[] = [];
    this.failedNodes = 0;
    for (const members of groups.values()) {
      const m = members[0]!.monitoring;
      for (let from = 0; from < members.length; from += ITEMS_PER_CALL) {
        const chunk = members.slice(from, from + ITEMS_PER_CALL);
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

  private async teardown(): Promise<void> {
    const { client, session, subscription, connected } = this;
    this.client = undefined;
    this.session = undefined;
    this.subscription = undefined;
    this.connected = false;
    // Without a connection these requests would only wait for their timeout; the server drops the
    // session and subscription itself when their lifetimes run out.
    if (connected) {
      try {
        await subscription?.terminate();
        await session?.close();
      } catch {
        // The server may have gone in between; closing the channel below is all that is left to do.
      }
    }
    await client?.disconnect();
  }

  /** A lifecycle event for every device; DISCOVERED only for devices not announced before. */
  private async announce(kind: LifecycleKind, online: boolean): Promise<void> {
    const devices = new Map<string, MonitoredNode[]>();
    for (const node of this.nodes) devices.set(node.deviceId, [...(devices.get(node.deviceId) ?? []), node]);
    const events: DeviceLifecycle[] = [];
    for (const [deviceId, nodes] of devices) {
      if (kind === 'DISCOVERED' && this.announced.has(deviceId)) continue;
      if (kind === 'DISCOVERED') this.announced.add(deviceId);
      events.push({
        eventId: randomUUID(),
        deviceId,
        timestampMs: Date.now(),
        kind,
        deviceType: null,
        vendor: null,
        model: null,
        connector: this.source,
        online,
        labels: this.config.labels,
        metrics: nodes.map((n) => ({ name: n.metric, unit: n.unit ?? null })),
      });
    }
    await this.context.sink.lifecycle(events);
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

export const opcuaConnectorType: ConnectorType<OpcuaConfig> = {
  type: 'opcua',
  configSchema: opcuaConfigSchema,
  create: (config, context) => new OpcuaConnector(config, context),
};
