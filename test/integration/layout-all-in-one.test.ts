import { describeLayout } from './support/layout-scenario.js';

describeLayout({ name: 'all-in-one', owner: 'all', others: [] });
