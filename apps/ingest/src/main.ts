import { runPlatform } from '@sentio/platform';

await runPlatform('sentio-ingest', ['ingest']);
