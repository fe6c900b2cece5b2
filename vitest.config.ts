import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One copy of graphql: with both the CJS and ESM builds loaded, errors cross realms and get masked.
    alias: { graphql: require.resolve('graphql/index.js') },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one, here. Most files spend their time
    // waiting on child processes (twg, the operator command line, chromium, a second server) or
    // the database, so three files at a time keep both cores busy.
    maxWorkers: 3,
  },
});
