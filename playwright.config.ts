import { defineConfig } from '@playwright/test';
import { TEST_BASE_URL } from './e2e/helpers/served.ts';
import { CHROMIUM_ARGS, chromiumPath } from './src/cli/headlessBrowser.ts';

// Debian's Chromium where it exists (Playwright's own browser download is unreachable here), with
// WebGPU on: the choice every browser-driving tool makes (src/cli/headlessBrowser.ts).
const executablePath = chromiumPath();
const port = Number(new URL(TEST_BASE_URL).port);

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  timeout: 300_000,
  workers: 1,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: TEST_BASE_URL,
    launchOptions: {
      executablePath,
      args: CHROMIUM_ARGS,
    },
  },
  webServer: {
    // The demo server: it makes the demo bundles first when they are missing or stale
    // (scripts/demoIndex.ts). With a trained model in models/default/ that means indexing the
    // Python docs corpus (23,276 passages) before it listens: 32 s on a quiet machine, 108 s
    // measured on 2 cores shared with a training job, so the limit leaves room for a slow machine.
    // `npm run test:e2e` makes the bundles before Playwright starts (progress in the log).
    command: `PORT=${port} NO_HMR=1 node --import tsx scripts/demo.ts`,
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 900_000,
    stdout: 'pipe',
  },
});
