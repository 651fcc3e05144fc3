import { createLogger, routeProcessWarnings } from '@sentio/observability';

// The test processes use KafkaJS too: its known warning would otherwise clutter every run.
routeProcessWarnings(createLogger('test', 'warn'));
