#!/usr/bin/env node
/* global process, console, performance */
// Production build of one entry point (an app's main.ts, or the CLI): compiles it and every workspace file
// it reaches to JavaScript with SWC (decorator metadata, as Nest needs), mirroring the repository layout
// under <out>, so a process starts without compiling TypeScript and the image needs no dev dependencies.
//
//   node deploy/build/build.mjs <entry.ts> <out dir>
//
// Workspace packages (@sentio/*) export their TypeScript sources; <out>/node_modules/@sentio/<name> links
// to the compiled copy, whose package.json exports the .js files instead, and Node finds it before the
// workspace links of the repository's node_modules. Non-TypeScript files of a reached package (migrations,
// assets) and the Avro schemas are copied beside. Types are not checked here: `npm run typecheck` does that.
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformFile } from '@swc/core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const [entryArg, outArg] = process.argv.slice(2);
if (!entryArg || !outArg) {
  console.error('usage: build.mjs <entry.ts> <out dir>');
  process.exit(2);
}
const entry = resolve(entryArg);
const out = resolve(outArg);
const started = performance.now();

/** Workspace packages by name: their folder and exports (subpath -> source file). */
const packages = new Map();
for (const parent of ['apps', 'libs', 'tools']) {
  for (const name of readdirSync(join(root, parent))) {
    const file = join(root, parent, name, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    packages.set(manifest.name, { dir: join(root, parent, name), manifest });
  }
}

const importPattern =
  /(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const files = new Set();
const reached = new Set();
const queue = [entry];
while (queue.length > 0) {
  const file = queue.pop();
  if (files.has(file)) continue;
  files.add(file);
  const source = readFileSync(file, 'utf8');
  for (const match of source.matchAll(importPattern)) {
    const specifier = match[1] ?? match[2];
    const target = resolveSpecifier(specifier, file);
    if (target) queue.push(target);
  }
}

function resolveSpecifier(specifier, from) {
  if (specifier.startsWith('.')) {
    const path = resolve(dirname(from), specifier);
    if (path.endsWith('.js') && existsSync(path.replace(/\.js$/, '.ts'))) return path.replace(/\.js$/, '.ts');
    if (existsSync(`${path}.ts`)) return `${path}.ts`;
    return undefined; // .json and other assets are copied with their package
  }
  const name = specifier.startsWith('@')
    ? specifier.split('/').slice(0, 2).join('/')
    : specifier.split('/')[0];
  const pkg = packages.get(name);
  if (!pkg) return undefined; // a dependency from node_modules
  reached.add(name);
  const subpath = `.${specifier.slice(name.length)}`;
  const exports =
    typeof pkg.manifest.exports === 'string' ? { '.': pkg.manifest.exports } : pkg.manifest.exports;
  const target = exports?.[subpath];
  if (!target) throw new Error(`${relative(root, from)}: ${specifier} is not exported by ${name}`);
  return join(pkg.dir, target);
}

rmSync(out, { recursive: true, force: true });
const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2023',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: true,
};
await Promise.all(
  [...files].map(async (file) => {
    const target = join(out, relative(root, file)).replace(/\.ts$/, '.js');
    const { code, map } = await transformFile(file, { ...swcOptions, filename: file, sourceFileName: file });
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, `${code}\n//# sourceMappingURL=${target.split('/').pop()}.map\n`);
    if (map) writeFileSync(`${target}.map`, map);
  }),
);

// The entry's own package is reached too (its package.json says "type": "module").
for (const [name, pkg] of packages) if (entry.startsWith(`${pkg.dir}/`)) reached.add(name);
for (const name of reached) {
  const { dir, manifest } = packages.get(name);
  const compiled = join(out, relative(root, dir));
  // Assets beside the sources: everything but TypeScript, tests and build output.
  cpSync(dir, compiled, {
    recursive: true,
    filter: (path) => {
      const rel = relative(dir, path);
      if (/(^|\/)(node_modules|dist|\.nx)(\/|$)/.test(rel)) return false;
      return !/\.tsx?$/.test(path);
    },
  });
  const exports = typeof manifest.exports === 'string' ? { '.': manifest.exports } : (manifest.exports ?? {});
  const jsExports = Object.fromEntries(
    Object.entries(exports).map(([k, v]) => [k, v.replace(/\.ts$/, '.js')]),
  );
  writeFileSync(
    join(compiled, 'package.json'),
    `${JSON.stringify({ name, version: manifest.version, private: true, type: 'module', exports: jsExports }, null, 2)}\n`,
  );
  const link = join(out, 'node_modules', name);
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(relative(dirname(link), compiled), link);
}
// libs/events reads the Avro schemas from <root>/schemas.
if (reached.has('@sentio/events')) cpSync(join(root, 'schemas'), join(out, 'schemas'), { recursive: true });
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ private: true, type: 'module' }, null, 2)}\n`);

console.log(
  `${relative(root, entry)} -> ${relative(root, out)}: ${files.size} files of ${reached.size} workspace packages ` +
    `compiled in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
