import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AvroModule } from '@sentio/avro';
import { KafkaModule, type KafkaConfig } from '@sentio/kafka';
import { ObservabilityModule } from '@sentio/observability';
import { OtlpModule, OtlpReceiver } from '@sentio/otlp';
import { logger, type Sandbox } from './backbone.js';

/** The OTLP receiver in-process against a sandbox, on a free port; `base` is its URL. */
export async function startOtlp(
  box: Sandbox,
  options: {
    maxBodyBytes: number;
    deviceIdAttributes: string[];
    producer?: Partial<KafkaConfig['producer']>;
  },
): Promise<{ app: INestApplicationContext; base: string }> {
  @Module({})
  class OtlpTestRoot {}
  const app = await NestFactory.createApplicationContext(
    {
      module: OtlpTestRoot,
      imports: [
        ObservabilityModule.forRoot(logger),
        KafkaModule.forRoot(
          { ...box.kafkaConfig, producer: { ...box.kafkaConfig.producer, ...options.producer } },
          logger,
        ),
        AvroModule.forRoot({ registryUrl: process.env['SCHEMA_REGISTRY_URL']! }),
        OtlpModule.forRoot({
          host: '127.0.0.1',
          port: 0,
          maxBodyBytes: options.maxBodyBytes,
          deviceIdAttributes: options.deviceIdAttributes,
        }),
      ],
    },
    { logger: false },
  );
  await app.init();
  return { app, base: `http://127.0.0.1:${app.get(OtlpReceiver).address()!.port}` };
}
