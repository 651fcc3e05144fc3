#!/usr/bin/env node
/* global process, console */
// Prints the third-party packages (one name a line) that the compiled JavaScript under <dir> imports, so
// deploy/check.sh can check each is a production dependency. node: built-ins and @sentio/* are left out.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinModules } from 'node:module';

const dir = process.argv[2];
const names = new Set();
const pattern =
  /(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"]([^'"./][^'"]*)['"]|import\(\s*['"]([^'"./][^'"]*)['"]\s*\)/g;
for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.js') || entry.parentPath.includes('node_modules')) continue;
  for (const m of readFileSync(join(entry.parentPath, entry.name), 'utf8').matchAll(pattern)) {
    const specifier = m[1] ?? m[2];
    const name = specifier.startsWith('@')
      ? specifier.split('/').slice(0, 2).join('/')
      : specifier.split('/')[0];
    if (specifier.startsWith('node:') || builtinModules.includes(name) || name.startsWith('@sentio/'))
      continue;
    names.add(name);
  }
}
console.log([...names].sort().join('\n'));
