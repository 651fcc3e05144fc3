import { describeLayout } from './support/layout-scenario.js';

// The ClickHouse-owning components share a process (the embedded engine binds its folder to one); every
// other component runs in a process of its own, talking to them only through Kafka.
describeLayout({
  name: 'split',
  owner: 'ingest,api',
  others: [
    { targets: 'connectors', readyComponent: 'kafka' },
    { targets: 'detectors', readyComponent: 'detectors' },
  ],
});
