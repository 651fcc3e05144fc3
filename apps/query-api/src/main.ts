import { runPlatform } from '@sentio/platform';

await runPlatform('sentio-query-api', ['api']);
