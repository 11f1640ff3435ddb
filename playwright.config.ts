import { defineConfig } from '@playwright/test';
import { existsSync } from 'node:fs';
import { TEST_BASE_URL } from './e2e/helpers/served.ts';

// Debian's Chromium where it exists (Playwright's own browser download is unreachable here).
const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
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
      args: [
        '--enable-unsafe-webgpu',
        '--enable-features=Vulkan',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    // The demo server: it makes the synthetic demo index first if it is missing.
    command: `PORT=${port} NO_HMR=1 node scripts/demo.js`,
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
  },
});
