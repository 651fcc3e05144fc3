import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

function script(path: string, ...args: string[]): string {
  const result = spawnSync(resolve(root, path), args, { encoding: 'utf8', env: process.env });
  if (result.status !== 0)
    throw new Error(`${path} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/**
 * The integration tests run against a real Kafka broker and a real schema registry. Unless KAFKA_BROKERS
 * and SCHEMA_REGISTRY_URL point at running ones, this starts both (and stops what it started afterwards).
 * Each test isolates itself with its own topic namespace and ClickHouse database.
 */
export default function setup(): () => void {
  const started: Array<() => void> = [];
  if (!process.env['KAFKA_BROKERS']) {
    const wasRunning = spawnSync(resolve(root, 'tools/kafka/kafka.sh'), ['status']).status === 0;
    script('tools/kafka/kafka.sh', 'start');
    if (!wasRunning) started.push(() => script('tools/kafka/kafka.sh', 'stop'));
    process.env['KAFKA_BROKERS'] = `127.0.0.1:${process.env['SENTIO_KAFKA_PORT'] ?? '9092'}`;
  }
  if (!process.env['SCHEMA_REGISTRY_URL']) {
    const wasRunning = spawnSync(resolve(root, 'tools/schema-registry/apicurio.sh'), ['status']).status === 0;
    script('tools/schema-registry/apicurio.sh', 'start');
    if (!wasRunning) started.push(() => script('tools/schema-registry/apicurio.sh', 'stop'));
    process.env['SCHEMA_REGISTRY_URL'] =
      `http://127.0.0.1:${process.env['SENTIO_REGISTRY_PORT'] ?? '8081'}/apis/ccompat/v7`;
  }
  return () => {
    for (const stop of started.reverse()) stop();
  };
}
