import { z } from 'zod';
import { reconnectSchema } from '../common/reconnect.config.js';
import { compileTopicPattern, templateNames } from '../common/topic-pattern.util.js';

const nodeId = z
  .string()
  .regex(/^(ns=\d+;)?[isgb]=.+$|^nsu=.+;[isgb]=.+$/, 'expected a NodeId such as ns=2;s=Pump1.Flow');

const deadband = z.strictObject({
  /** absolute: in the variable's unit; percent: of its EURange (the server must know one). */
  type: z.enum(['absolute', 'percent']),
  value: z.number().min(0),
});

/** How one variable is sampled by the server; the connector's `monitoring` fills what a node leaves out. */
const monitoringFields = {
  samplingIntervalMs: z.number().min(0).optional(),
  /** Values the server keeps between two publishes; the oldest is dropped when it overflows. */
  queueSize: z.number().int().min(1).max(10_000).optional(),
  deadband: deadband.optional(),
};

const nodeSchema = z.strictObject({
  nodeId,
  deviceId: z.string().min(1),
  metric: z.string().min(1),
  unit: z.string().min(1).optional(),
  ...monitoringFields,
});

const browseSchema = z
  .strictObject({
    /** Where browsing starts: the Objects folder unless told. */
    root: nodeId.default('ns=0;i=85'),
    /**
     * Browse names below the root joined by `/` (namespace prefixes left out), matched like an MQTT topic
     * pattern: literal levels, `+`, a trailing `#`, and `{name}` captures for the templates below.
     */
    path: z.string().min(1),
    deviceId: z.string().min(1).default('{device}'),
    metric: z.string().min(1).default('{metric}'),
    unit: z.string().min(1).optional(),
    /** Bounds a `#` pattern's walk through a large address space. */
    maxDepth: z.number().int().min(1).max(20).default(8),
    ...monitoringFields,
  })
  .superRefine((rule, ctx) => {
    let captures: string[];
    try {
      captures = compileTopicPattern(rule.path).captures;
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: (error as Error).message });
      return;
    }
    for (const key of ['deviceId', 'metric'] as const) {
      for (const name of templateNames(rule[key])) {
        if (!captures.includes(name)) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `expected only captures of path "${rule.path}" (${captures.map((c) => `{${c}}`).join(', ') || 'none'}), not {${name}}`,
          });
        }
      }
    }
  });

const identitySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('anonymous') }),
  z.strictObject({ type: z.literal('username'), username: z.string().min(1), password: z.string() }),
  /** An X.509 user certificate and its key (PEM files): the user, not the application instance. */
  z.strictObject({
    type: z.literal('certificate'),
    certificate: z.string().min(1),
    privateKey: z.string().min(1),
  }),
]);

export const opcuaSecurityPolicies = [
  'None',
  'Basic256Sha256',
  'Aes128_Sha256_RsaOaep',
  'Aes256_Sha256_RsaPss',
] as const;

export const opcuaConfigSchema = z
  .strictObject({
    name: z.string(),
    type: z.literal('opcua'),
    endpointUrl: z.string().regex(/^opc\.tcp:\/\/[^/]+/, 'expected opc.tcp://host:port[/path]'),
    securityPolicy: z.enum(opcuaSecurityPolicies).default('None'),
    securityMode: z.enum(['None', 'Sign', 'SignAndEncrypt']).default('None'),
    identity: identitySchema.default({ type: 'anonymous' }),
    pki: z
      .strictObject({
        /** The client's certificate store: own/ (created on first start), trusted/, rejected/. */
        folder: z.string().min(1).default('pki'),
        /** Server certificates (DER or PEM files) to trust; others land in rejected/ for an operator to move. */
        trustedServerCertificates: z.array(z.string().min(1)).default([]),
        /** Trusts any server certificate on first sight: for development only. */
        autoTrust: z.boolean().default(false),
        applicationUri: z.string().min(1).optional(),
      })
      .default({ folder: 'pki', trustedServerCertificates: [], autoTrust: false }),
    reconnect: reconnectSchema,
    subscription: z
      .strictObject({
        publishingIntervalMs: z.number().int().min(10).default(1000),
        /** Publishing intervals without data after which the server sends a keep-alive. */
        maxKeepAliveCount: z.number().int().min(1).default(10),
        /** Publishing intervals without a client request after which the server drops the subscription. */
        lifetimeCount: z.number().int().min(3).default(100),
        maxNotificationsPerPublish: z.number().int().min(0).default(0),
      })
      .default({
        publishingIntervalMs: 1000,
        maxKeepAliveCount: 10,
        lifetimeCount: 100,
        maxNotificationsPerPublish: 0,
      }),
    monitoring: z
      .strictObject({
        samplingIntervalMs: z.number().min(0).default(1000),
        queueSize: z.number().int().min(1).max(10_000).default(10),
        deadband: deadband.optional(),
      })
      .default({ samplingIntervalMs: 1000, queueSize: 10 }),
    labels: z.record(z.string(), z.string()).default({}),
    nodes: z.array(nodeSchema).default([]),
    browse: z.array(browseSchema).default([]),
  })
  .superRefine((config, ctx) => {
    if (config.nodes.length === 0 && config.browse.length === 0)
      ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'expected nodes or browse rules' });
    if ((config.securityPolicy === 'None') !== (config.securityMode === 'None')) {
      ctx.addIssue({
        code: 'custom',
        path: ['securityMode'],
        message: 'expected securityMode None exactly when securityPolicy is None',
      });
    }
    const seen = new Set<string>();
    config.nodes.forEach((n, i) => {
      const key = `${n.deviceId}/${n.metric}`;
      if (seen.has(key))
        ctx.addIssue({
          code: 'custom',
          path: ['nodes', i, 'metric'],
          message: `expected one node per device and metric, got a second ${key}`,
        });
      seen.add(key);
    });
  });

export type OpcuaConfig = z.infer<typeof opcuaConfigSchema>;
export type OpcuaNodeConfig = OpcuaConfig['nodes'][number];
export type OpcuaBrowseRule = OpcuaConfig['browse'][number];
export type OpcuaDeadband = z.infer<typeof deadband>;
