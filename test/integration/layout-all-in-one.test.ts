import { describeLayout } from './support/layout-scenario.js';

describeLayout('all-in-one', 'all');
