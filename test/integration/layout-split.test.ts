import { describeLayout } from './support/layout-scenario.js';

describeLayout('split', 'ingest');
