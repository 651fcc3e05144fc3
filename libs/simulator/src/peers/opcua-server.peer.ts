import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  StatusCode,
  StatusCodes,
  type Namespace,
  type UAObject,
  type UAVariable,
} from 'node-opcua';
import type { Quality, SimulatedSample } from '../plant.type.js';

const statusOf: Record<Quality, StatusCode> = {
  GOOD: StatusCodes.Good,
  UNCERTAIN: StatusCodes.UncertainLastUsableValue,
  BAD: StatusCodes.BadSensorFailure,
};

export interface OpcuaServerPeerOptions {
  port: number;
  /** The server's certificate store; its certificate is created there on first start and kept after. */
  pkiFolder: string;
  /** Objects/<folder>/<device>/<metric>, node ids ns=1;s=<device>.<metric>. */
  folder?: string;
  /** Username/password pairs; anonymous sessions are refused when any is given. */
  users?: Record<string, string>;
  /** Secure endpoints to offer besides None (which stays for GetEndpoints and plain development use). */
  securityPolicies?: Array<'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss'>;
  /**
   * The address the server listens on and advertises in its endpoints, the same, so that clients reach
   * what GetEndpoints tells them (127.0.0.1 by default: the simulator is a local demo).
   */
  host?: string;
  /**
   * `mini`: node-opcua's minimal address space (base types only), ~75 MB and ~2.5 s less than the full
   * standard nodeset, which a plant of Double and Boolean variables does not need.
   */
  addressSpace?: 'standard' | 'mini';
}

const miniNodeset = createRequire(import.meta.url).resolve(
  'node-opcua-address-space/nodesets/mini.Nodeset2.xml',
);

/**
 * A node-opcua server whose variables the caller sets: the simulator's plant served over OPC UA, and the
 * peer the connector tests talk to. Client and user certificates are accepted on first sight (a peer for
 * testing, not a server to deploy).
 */
export class OpcuaServerPeer {
  private readonly variables = new Map<string, UAVariable>();
  private readonly devices = new Map<string, UAObject>();
  private namespace!: Namespace;
  private plant!: UAObject;

  private constructor(
    private readonly server: OPCUAServer,
    private readonly folder: string,
  ) {}

  static async start(options: OpcuaServerPeerOptions): Promise<OpcuaServerPeer> {
    const policies = options.securityPolicies ?? [];
    const users = options.users ?? {};
    const host = options.host ?? '127.0.0.1';
    const server = new OPCUAServer({
      port: options.port,
      host,
      hostname: host,
      ...(options.addressSpace === 'mini' && { nodeset_filename: [miniNodeset] }),
      resourcePath: '/sentio',
      serverCertificateManager: new OPCUACertificateManager({
        rootFolder: options.pkiFolder,
        automaticallyAcceptUnknownCertificate: true,
      }),
      userCertificateManager: new OPCUACertificateManager({
        rootFolder: join(options.pkiFolder, 'users'),
        automaticallyAcceptUnknownCertificate: true,
      }),
      securityPolicies: [SecurityPolicy.None, ...policies.map((p) => SecurityPolicy[p])],
      securityModes:
        policies.length > 0
          ? [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt]
          : [MessageSecurityMode.None],
      allowAnonymous: Object.keys(users).length === 0,
      userManager: { isValidUser: (name: string, password: string) => users[name] === password },
      buildInfo: { productName: 'Sentio simulator', manufacturerName: 'Sentio' },
    });
    await server.initialize();
    const peer = new OpcuaServerPeer(server, options.folder ?? 'Plant');
    peer.namespace = server.engine.addressSpace!.getOwnNamespace();
    peer.plant = peer.namespace.addFolder(server.engine.addressSpace!.rootFolder.objects, {
      browseName: peer.folder,
    });
    await server.start();
    return peer;
  }

  /** The server certificate a client must trust for a secure endpoint. */
  get certificateFile(): string {
    return this.server.certificateFile ?? join('own', 'certs', 'certificate.pem');
  }

  get endpointUrl(): string {
    return this.server.getEndpointUrl();
  }

  /** The plant's samples as variable values; a BAD sample keeps the last value under Bad_SensorFailure. */
  publish(samples: SimulatedSample[]): void {
    for (const s of samples) {
      this.set(s.deviceId, s.metric, s.value, statusOf[s.quality], new Date(s.timestampMs));
    }
  }

  /** Sets a variable, creating it (and its device object) on first use; null keeps the current value. */
  set(
    deviceId: string,
    metric: string,
    value: number | boolean | null,
    status: StatusCode = StatusCodes.Good,
    sourceTimestamp = new Date(),
  ): void {
    const key = `${deviceId}.${metric}`;
    let variable = this.variables.get(key);
    const dataType = typeof value === 'boolean' ? DataType.Boolean : DataType.Double;
    if (!variable) {
      let device = this.devices.get(deviceId);
      if (!device) {
        device = this.namespace.addObject({
          organizedBy: this.plant,
          browseName: deviceId,
          nodeId: `s=${deviceId}`,
        });
        this.devices.set(deviceId, device);
      }
      variable = this.namespace.addVariable({
        componentOf: device,
        browseName: metric,
        nodeId: `s=${key}`,
        dataType: dataType === DataType.Boolean ? 'Boolean' : 'Double',
        minimumSamplingInterval: 0,
      });
      this.variables.set(key, variable);
    }
    const current = variable.readValue().value.value as number | boolean | null;
    variable.setValueFromSource({ dataType, value: value ?? current ?? 0 }, status, sourceTimestamp);
  }

  async stop(): Promise<void> {
    await this.server.shutdown(0);
  }
}
