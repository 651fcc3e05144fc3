import { describe, expect, it } from 'vitest';
import { parseConnectors } from '../connectors.config.js';

const connector = (body: string) => `
connectors:
  - name: plc
    type: opcua
    endpointUrl: opc.tcp://plc:4840
${body}`;

describe('opcua config', () => {
  it('fills secure-by-default settings: no auto trust, anonymous, policy None', () => {
    const { connectors, problems } = parseConnectors(
      connector(`    browse:\n      - path: Plant/{device}/{metric}`),
    );
    expect(problems).toEqual([]);
    expect(connectors[0]).toMatchObject({
      securityPolicy: 'None',
      securityMode: 'None',
      identity: { type: 'anonymous' },
      pki: { folder: 'pki', trustedServerCertificates: [], autoTrust: false },
      monitoring: { samplingIntervalMs: 1000, queueSize: 10 },
      browse: [{ root: 'ns=0;i=85', deviceId: '{device}', metric: '{metric}', maxDepth: 8 }],
    });
  });

  it('names what is wrong', () => {
    const { problems } = parseConnectors(
      connector(`    securityPolicy: Aes256_Sha256_RsaPss
    identity: { type: username, username: op }
    nodes:
      - { nodeId: 'Pump1.Flow', deviceId: p1, metric: flow }
    browse:
      - { path: 'Plant/{device}', metric: '{metric}' }`),
    );
    expect(problems).toEqual([
      'connector "plc" (opcua) identity.password: Invalid input: expected string, received undefined',
      'connector "plc" (opcua) nodes.0.nodeId: expected a NodeId such as ns=2;s=Pump1.Flow, got "Pump1.Flow"',
      'connector "plc" (opcua) browse.0.metric: expected only captures of path "Plant/{device}" ({device}), not {metric}, got "{metric}"',
    ]);
  });

  it('refuses a secure policy without a secure mode', () => {
    const { problems } = parseConnectors(
      connector(`    securityPolicy: Basic256Sha256\n    browse:\n      - path: 'Plant/{device}/{metric}'`),
    );
    expect(problems).toEqual([
      'connector "plc" (opcua) securityMode: expected securityMode None exactly when securityPolicy is None',
    ]);
  });

  it('needs something to monitor', () => {
    expect(parseConnectors(connector('')).problems).toEqual([
      'connector "plc" (opcua) nodes: expected nodes or browse rules',
    ]);
  });
});
