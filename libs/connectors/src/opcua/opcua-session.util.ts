import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from '@sentio/observability';
import {
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  UserTokenType,
  type EndpointDescription,
  type UserIdentityInfo,
} from 'node-opcua';
import type { OpcuaConfig } from './opcua.config.js';

// The session and security half of the OPC UA connector: certificates and trust, endpoint discovery, the
// client and the user identity. The subscription half is opcua-subscription.util.ts.

export async function createCertificateManager(config: OpcuaConfig): Promise<OPCUACertificateManager> {
  const manager = new OPCUACertificateManager({
    rootFolder: config.pki.folder,
    automaticallyAcceptUnknownCertificate: config.pki.autoTrust,
  });
  await manager.initialize();
  for (const file of config.pki.trustedServerCertificates) {
    await manager.trustCertificate(new X509Certificate(readFileSync(file)).raw);
  }
  return manager;
}

export function applicationUri(config: OpcuaConfig): string {
  return config.pki.applicationUri ?? `urn:${hostname()}:Sentio`;
}

/**
 * Asks the server for its endpoints over an unsecured channel (GetEndpoints needs none). `offered` lists
 * them as policy/mode; `endpoint` is the one with the configured policy and mode (undefined for None), and
 * a server without it is an error naming what it offers instead.
 */
export async function discoverEndpoint(
  config: OpcuaConfig,
  certificates: OPCUACertificateManager,
): Promise<{ endpoint: EndpointDescription | undefined; offered: string[] }> {
  const probe = OPCUAClient.create({
    applicationName: 'Sentio',
    applicationUri: applicationUri(config),
    clientCertificateManager: certificates,
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0 },
  });
  let endpoints: EndpointDescription[];
  try {
    await probe.connect(config.endpointUrl);
    endpoints = await probe.getEndpoints();
  } finally {
    await probe.disconnect();
  }
  const offered = endpoints.map(
    (e) => `${e.securityPolicyUri?.split('#')[1] ?? '?'}/${MessageSecurityMode[e.securityMode]}`,
  );
  const wanted = SecurityPolicy[config.securityPolicy];
  const mode = MessageSecurityMode[config.securityMode];
  const endpoint = endpoints.find((e) => e.securityPolicyUri === wanted && e.securityMode === mode);
  if (!endpoint) {
    throw Object.assign(
      new Error(
        `server offers no ${config.securityPolicy}/${config.securityMode} endpoint (offers ${[...new Set(offered)].join(', ')})`,
      ),
      { offered },
    );
  }
  return { endpoint: config.securityPolicy === 'None' ? undefined : endpoint, offered };
}

/** Trusts the server certificate when listed (or, with pki.autoTrust, on first sight); else files it as rejected. */
export async function checkTrust(
  config: OpcuaConfig,
  certificates: OPCUACertificateManager,
  endpoint: EndpointDescription,
  logger: Logger,
): Promise<void> {
  const certificate = endpoint.serverCertificate;
  if (!certificate || certificate.length === 0) throw new Error('server sent no certificate');
  const status = await certificates.getTrustStatus(certificate);
  if (status.isGood()) return;
  if (config.pki.autoTrust) {
    await certificates.trustCertificate(certificate);
    logger.warn(
      { endpoint: config.endpointUrl },
      'server certificate trusted on first sight (pki.autoTrust): for development only',
    );
    return;
  }
  await certificates.rejectCertificate(certificate);
  const thumbprint = new X509Certificate(certificate).fingerprint;
  throw new Error(
    `server certificate ${thumbprint} is not trusted: list it in pki.trustedServerCertificates or move it from ${config.pki.folder}/rejected to ${config.pki.folder}/trusted/certs`,
  );
}

/** The client of the session: the configured security, our own backoff for the first connection. */
export function createClient(config: OpcuaConfig, certificates: OPCUACertificateManager): OPCUAClient {
  return OPCUAClient.create({
    applicationName: 'Sentio',
    applicationUri: applicationUri(config),
    clientCertificateManager: certificates,
    securityMode: MessageSecurityMode[config.securityMode],
    securityPolicy: SecurityPolicy[config.securityPolicy],
    // The advertised endpoint URL may name a host we cannot resolve: the configured one is used as is.
    endpointMustExist: false,
    // One quick retry for the first connection (our own loop backs off); once connected, node-opcua
    // retries a lost connection without end, within these bounds.
    connectionStrategy: {
      maxRetry: 1,
      initialDelay: config.reconnect.initialMs,
      maxDelay: config.reconnect.maxMs,
    },
    keepSessionAlive: true,
  });
}

export function identityOf(config: OpcuaConfig): UserIdentityInfo {
  const identity = config.identity;
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
