import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configFields, ConfigError, defineConfigSection, loadConfig } from './index.js';

const kafka = defineConfigSection(
  'kafka',
  z.object({
    brokers: configFields.hostPortList().default(['127.0.0.1:9092']),
    batchSize: configFields.positiveInt().default(100),
  }),
  { brokers: 'KAFKA_BROKERS', batchSize: 'KAFKA_BATCH_SIZE' },
);
const http = defineConfigSection('http', z.object({ port: configFields.port().default(8080) }), {
  port: 'SENTIO_HTTP_PORT',
});

describe('loadConfig', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadConfig([kafka, http], { env: {} });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.http.port).toBe(8080);
  });

  it('lets the environment win over the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentio-config-'));
    const file = join(dir, 'sentio.yaml');
    writeFileSync(file, 'kafka:\n  brokers: [a:1, b:2]\n  batchSize: 5\nhttp:\n  port: 9000\n');
    const config = loadConfig([kafka, http], { env: { SENTIO_HTTP_PORT: '9100' }, file });
    expect(config.kafka).toEqual({ brokers: ['a:1', 'b:2'], batchSize: 5 });
    expect(config.http.port).toBe(9100);
  });

  it('names every bad key, its variable and what was expected', () => {
    let error: unknown;
    try {
      loadConfig([kafka, http], {
        env: { KAFKA_BROKERS: 'nohost', KAFKA_BATCH_SIZE: '-3', SENTIO_HTTP_PORT: 'x' },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^kafka\.brokers\.0 \(env KAFKA_BROKERS\): expected host:port/);
    expect(problems[1]).toMatch(/^kafka\.batchSize \(env KAFKA_BATCH_SIZE\): .*, got "-3"/);
    expect(problems[2]).toMatch(/^http\.port \(env SENTIO_HTTP_PORT\)/);
  });

  it('rejects a config file that is not YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentio-config-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'kafka: [unclosed');
    expect(() => loadConfig([kafka], { env: {}, file })).toThrow(/not valid YAML/);
  });
});
