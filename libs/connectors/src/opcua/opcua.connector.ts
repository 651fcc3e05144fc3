import { randomUUID } from 'node:crypto';
import type { DeviceLifecycle, LifecycleKind } from '@sentio/events';
import type { HealthReport } from '@sentio/observability';
import type { ClientSession, ClientSubscription, OPCUACertificateManager, OPCUAClient } from 'node-opcua';
import { backoffMs } from '../common/backoff.util.js';
import type { Connector, ConnectorContext, ConnectorType } from '../connector.type.js';
import { opcuaConfigSchema, type OpcuaConfig } from './opcua.config.js';
import {
  checkTrust,
  createCertificateManager,
  createClient,
  discoverEndpoint,
  identityOf,
} from './opcua-session.util.js';
import { OpcuaMonitor, type MonitoredNode } from './opcua-subscription.util.js';

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
  private readonly announced = new Set<string>();
  private readonly monitor: OpcuaMonitor;
  private started = false;
  private assigning: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: OpcuaConfig,
    private readonly context: ConnectorContext,
  ) {
    this.name = config.name;
    this.source = `opcua:${config.name}`;
    this.monitor = new OpcuaMonitor(config, context, this.source);
  }

  async start(): Promise<void> {
    this.started = true;
    if (!(await this.connect())) this.retrying = this.retry();
  }

  /**
   * A group's share of the devices. The session is opened on the first call (browse rules find the devices
   * only once connected); later calls change the monitored items of the running subscription, or only the
   * filter while the connection is down (the next connect applies it).
   */
  assign(owns: (deviceId: string) => boolean): Promise<void> {
    const run = this.assigning.then(async () => {
      this.monitor.owns = owns;
      if (!this.started) {
        const explicit = this.config.nodes.some((n) => owns(n.deviceId));
        // Nothing to read that is known without browsing, and nothing to browse: no session needed yet.
        if (!explicit && this.config.browse.length === 0) return;
        await this.start();
        return;
      }
      if (this.stopped) return;
      const gained = await this.monitor.reassign(this.connected ? this.subscription : undefined);
      if (this.connected && gained.size > 0) {
        await this.announce('DISCOVERED', false, gained);
        await this.announce('ONLINE', true, gained);
      }
    });
    this.assigning = run.catch(() => undefined); // the caller sees the failure; the next change still runs
    return run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.assigning;
    this.wake?.();
    await this.retrying;
    await this.teardown();
    await this.monitor.drained();
    await this.certificates?.dispose();
  }

  health(): HealthReport {
    return {
      state: !this.connected ? 'down' : this.monitor.failedNodes > 0 || this.lastError ? 'degraded' : 'up',
      detail: {
        endpoint: this.config.endpointUrl,
        security: `${this.config.securityPolicy}/${this.config.securityMode}`,
        offered: this.offered,
        monitored: this.monitor.nodes.length - this.monitor.failedNodes,
        devices: [...new Set(this.monitor.nodes.map((n) => n.deviceId))],
        failed: this.monitor.failedNodes,
        ...(this.lastError && { reason: this.lastError }),
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
      this.certificates ??= await createCertificateManager(this.config);
      const { endpoint, offered } = await discoverEndpoint(this.config, this.certificates).catch(
        (error: Error & { offered?: string[] }) => {
          if (error.offered) this.offered = error.offered;
          throw error;
        },
      );
      this.offered = offered;
      if (endpoint) await checkTrust(this.config, this.certificates, endpoint, this.context.logger);
      const client = createClient(this.config, this.certificates);
      this.client = client;
      this.watch(client);
      await client.connect(this.config.endpointUrl);
      const session = await client.createSession(identityOf(this.config));
      this.session = session;
      await this.monitor.resolveNodes(session);
      await this.announce('DISCOVERED', false);
      this.subscription = await this.monitor.subscribe(session);
      this.connected = true;
      this.attempt = 0;
      this.lastError = undefined;
      await this.announce('ONLINE', true);
      this.context.logger.info(
        {
          endpoint: this.config.endpointUrl,
          monitored: this.monitor.nodes.length - this.monitor.failedNodes,
        },
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
  private async announce(kind: LifecycleKind, online: boolean, only?: Set<string>): Promise<void> {
    const devices = new Map<string, MonitoredNode[]>();
    for (const node of this.monitor.nodes)
      if (!only || only.has(node.deviceId))
        devices.set(node.deviceId, [...(devices.get(node.deviceId) ?? []), node]);
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
}

export const opcuaConnectorType: ConnectorType<OpcuaConfig> = {
  type: 'opcua',
  configSchema: opcuaConfigSchema,
  create: (config, context) => new OpcuaConnector(config, context),
};
