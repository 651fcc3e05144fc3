import { runPlatform } from '@sentio/platform';

await runPlatform('sentio-alerting', ['alerting']);
