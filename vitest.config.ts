import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Each run's temporary files in one folder, removed at its end (test/global-setup.ts).
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 60_000,
    // Hooks that compile or pack (a module folder, a C batch, the package tarball) get the
    // tests' patience: on a loaded machine they took more than vitest's default 10 s.
    hookTimeout: 300_000,
    // The JSON report lets .ci/run print a plain `N passed, N failed` closing line.
    // The slowest files and tests are listed at the end (test/reporters/slowest.ts).
    reporters: ['default', 'json', './test/reporters/slowest.ts'],
    outputFile: { json: 'test-results.json' },
  },
});
