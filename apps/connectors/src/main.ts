import { runPlatform } from '@sentio/platform';

await runPlatform('sentio-connectors', ['connectors', 'otlp']);
