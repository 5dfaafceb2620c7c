import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One graphql instance, the one Node loads for the Apollo packages (CommonJS); Vite would
    // otherwise pick graphql's ESM build for our files, and graphql refuses objects from two copies.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        // Tests that start no service: `npm run test:unit`, about a minute.
        extends: true,
        // Its global setup says what is unavailable here (promtool, kubectl, ...), and fails under CI=true.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 }, globalSetup: ['test/support/setup-check.ts'] },
      },
      {
        // Tests that start real subgraphs and gateways: `npm run test:e2e`. The global setup builds
        // the services' bundles and the migrated database templates once, before any file runs.
        extends: true,
        test: {
          name: 'e2e',
          // After the unit tests (`npm test` runs both): a broken unit shows in a minute.
          sequence: { groupOrder: 1 },
          include: ['test/e2e/**/*.e2e.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          // End-to-end files start whole supergraphs; two at a time is what two cores carry.
          maxWorkers: 2,
          benchmark: { include: ['bench/**/*.bench.ts'] },
        },
      },
    ],
  },
});
