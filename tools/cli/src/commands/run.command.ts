import { runPlatform } from '@sentio/platform';
import type { Command } from './command.type.js';

export const runTargetsCommand: Command = {
  name: 'run',
  summary: 'Run platform components in this process (SENTIO_TARGETS, default all).',
  usage: '[targets, e.g. ingest or all]',
  async run(argv) {
    const targets = argv[0] ? argv[0].split(',') : ['all'];
    await runPlatform('sentio', targets);
    return new Promise<number>(() => {}); // runs until a signal stops it
  },
};
