import { createLogger, routeProcessWarnings } from '@sentio/observability';
import { runCommand } from './commands/index.js';

routeProcessWarnings(createLogger('sentio'));
process.exitCode = await runCommand(process.argv.slice(2));
