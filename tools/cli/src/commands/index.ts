import type { Command } from './command.type.js';

/**
 * Each command's module is loaded only when that command runs: the platform (ClickHouse, TF.js, node-opcua)
 * weighs ~600 MB resident, which `sentio up` (a supervisor) and `sentio simulate` need not carry.
 */
const loaders: Record<string, () => Promise<Command>> = {
  up: () => import('./up.command.js').then((m) => m.upCommand),
  run: () => import('./run.command.js').then((m) => m.runTargetsCommand),
  registry: () => import('./registry.command.js').then((m) => m.registryCommand),
  simulate: () => import('./simulate.command.js').then((m) => m.simulateCommand),
  detect: () => import('./detect.command.js').then((m) => m.detectCommand),
  migrations: () => import('./migrations.command.js').then((m) => m.migrationsCommand),
  replay: () => import('./replay.command.js').then((m) => m.replayCommand),
  archive: () => import('./archive.command.js').then((m) => m.archiveCommand),
  alerts: () => import('./alerts.command.js').then((m) => m.alertsCommand),
};

async function usage(): Promise<string> {
  const commands = await Promise.all(Object.values(loaders).map((load) => load()));
  const rows = commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n');
  return `usage: sentio <command> [options]\n\n${rows}\n\nsentio <command> --help shows a command's options.\n`;
}

export async function runCommand(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const load = name !== undefined && Object.hasOwn(loaders, name) ? loaders[name] : undefined;
  if (!load) {
    const text = await usage();
    process.stderr.write(name && name !== '--help' ? `unknown command ${name}\n\n${text}` : text);
    return name && name !== '--help' ? 2 : 0;
  }
  const command = await load();
  if (rest.includes('--help')) {
    process.stdout.write(`usage: sentio ${command.name} ${command.usage}\n\n${command.summary}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    process.stderr.write(`sentio ${command.name}: ${(error as Error).message}\n`);
    return 1;
  }
}
