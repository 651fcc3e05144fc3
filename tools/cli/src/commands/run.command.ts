import { runPlatform } from '@sentio/platform';
import type { Command } from './command.type.js';

export const runTargetsCommand: Command = {
  name: 'run',
  summary: 'Run platform components in this process (SENTIO_TARGETS, default all).',
  usage: '[targets: all (default) or a list such as ingest]',
  async run(argv) {
    // A target named on the command line wins over SENTIO_TARGETS.
    if (argv[0]) process.env['SENTIO_TARGETS'] = argv[0];
    await runPlatform('sentio', ['all']);
    return new Promise<number>(() => {}); // runs until a signal stops it
  },
};
