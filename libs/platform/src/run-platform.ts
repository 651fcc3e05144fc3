import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AvroModule } from '@sentio/avro';
import { ClickHouseModule } from '@sentio/clickhouse';
import { ConfigError } from '@sentio/config';
import { KafkaModule } from '@sentio/kafka';
import {
  createLogger,
  NestJsonLogger,
  ObservabilityModule,
  routeProcessWarnings,
} from '@sentio/observability';
import { loadSentioConfig, type SentioConfig } from './sentio-config.js';
import { resolveTargets, targets, type TargetName } from './targets.js';

@Module({})
class PlatformModule {}

export function platformModule(
  config: SentioConfig,
  names: TargetName[],
  logger = createLogger('sentio'),
): DynamicModule {
  const imports: DynamicModule[] = [
    ObservabilityModule.forRoot(logger),
    KafkaModule.forRoot(config.kafka, logger),
    AvroModule.forRoot(config.avro),
  ];
  if (names.some((n) => targets[n].usesClickHouse))
    imports.push(ClickHouseModule.forRoot(config.clickhouse, logger));
  for (const name of names) imports.push(targets[name].module(config, logger));
  return { module: PlatformModule, imports };
}

/**
 * Starts the targets named by SENTIO_TARGETS (or `defaultTargets` when unset) in this process, with /health
 * and /metrics on the HTTP port. A bad configuration stops here with every problem listed.
 */
export async function runPlatform(service: string, defaultTargets: string[]): Promise<void> {
  const logger = createLogger(service);
  routeProcessWarnings(logger);
  let config: SentioConfig;
  let names: TargetName[];
  try {
    config = loadSentioConfig({
      env: { SENTIO_TARGETS: defaultTargets.join(','), ...process.env },
    });
    names = resolveTargets(config.platform.targets);
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : (error as Error).message;
    logger.fatal(message);
    process.stderr.write(`${message}\n`);
    process.exit(78); // EX_CONFIG
  }
  const app = await NestFactory.create(platformModule(config, names, logger), {
    logger: new NestJsonLogger(logger.child({ component: 'nest' })),
  });
  // Our own signal handling rather than Nest's, which re-raises the signal: a graceful stop (buffers
  // inserted, offsets committed, group left) exits 0.
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await app.listen(config.platform.httpPort, config.platform.httpHost);
  logger.info(
    {
      targets: names,
      http: `http://${config.platform.httpHost}:${config.platform.httpPort}`,
      kafka: config.kafka.brokers,
      registry: config.avro.registryUrl,
      clickhouse: names.some((n) => targets[n].usesClickHouse)
        ? (config.clickhouse.url ?? `embedded:${config.clickhouse.path}`)
        : 'not used',
    },
    'sentio started',
  );
}
