import { alertsCommand } from './alerts.command.js';
import { detectCommand } from './detect.command.js';
import { registryCommand } from './registry.command.js';
import { runTargetsCommand } from './run.command.js';
import { simulateCommand } from './simulate.command.js';
import { upCommand } from './up.command.js';
import type { Command } from './command.type.js';

const commands: Command[] = [upCommand, runTargetsCommand, registryCommand, simulateCommand, detectCommand, alertsCommand];

function usage(): string {
  const rows = commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n');
  return `usage: sentio <command> [options]\n\n${rows}\n\nsentio <command> --help shows a command's options.\n`;
}

export async function runCommand(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(name && name !== '--help' ? `unknown command ${name}\n\n${usage()}` : usage());
    return name && name !== '--help' ? 2 : 0;
  }
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
