import { runPlatform } from '@sentio/platform';

await runPlatform('sentio-detectors', ['detectors']);
