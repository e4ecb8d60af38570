import { defineConfig } from 'vitest/config';

// The browser suites (headless Chromium): `npm run test:browser`, called by .ci/run through
// scripts/ci-browser.sh. Kept out of `npm test` because each starts a browser.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
