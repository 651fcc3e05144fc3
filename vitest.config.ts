import swc from 'unplugin-swc';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  // Nest's dependency injection reads decorator metadata, which esbuild does not emit: SWC compiles the tests.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['libs/*/src/**/*.spec.ts', 'apps/*/src/**/*.spec.ts', 'tools/**/*.spec.ts'],
          // The console's specs need the Angular compiler: `ng test` (Angular's Vitest runner) runs them.
          exclude: [...configDefaults.exclude, 'apps/web/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Each file owns real processes and an embedded ClickHouse folder: one at a time on 2 cores.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 240_000,
          globalSetup: ['test/integration/global-setup.ts'],
          setupFiles: ['test/integration/process-warnings.setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          // The operator console in headless Chromium (Debian's, /usr/bin/chromium) against a real platform.
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          globalSetup: ['test/integration/global-setup.ts'],
          setupFiles: ['test/integration/process-warnings.setup.ts'],
        },
      },
    ],
  },
});
