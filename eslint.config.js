import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // apps/web (the Angular console) is checked by its own toolchain: `ng build` compiles it with TypeScript 6
  // and strict templates, `npm run typecheck -w apps/web` covers its specs; this config's TypeScript 5.9
  // parser and Nest-oriented rules do not apply to it.
  { ignores: ['**/node_modules/**', '**/dist/**', '.nx/**', 'apps/web/**', 'libs/events/src/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      // Apps compose libs; libs never reach into apps, and every import of another project goes through its
      // package name (its public index), never a relative path into its folder. Layers (the `scope:` tag in
      // each package.json) point one way: core (config, events, observability, avro, kafka, clickhouse) <-
      // component (one job each: ingest, detectors, connectors, otlp, query-api, ...) <- platform (composes
      // components into a process) <- app (thin shells, the CLI). A project imports its own layer or lower.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:core', onlyDependOnLibsWithTags: ['scope:core'] },
            { sourceTag: 'scope:component', onlyDependOnLibsWithTags: ['scope:core', 'scope:component'] },
            {
              sourceTag: 'scope:platform',
              onlyDependOnLibsWithTags: ['scope:core', 'scope:component', 'scope:platform'],
            },
            {
              sourceTag: 'scope:app',
              onlyDependOnLibsWithTags: ['scope:core', 'scope:component', 'scope:platform'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  prettier,
);
