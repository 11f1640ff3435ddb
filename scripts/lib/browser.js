// What the scripts that drive headless Chromium share: the browser (Debian's chromium, else
// Playwright's own) with WebGPU on, a free port, and a Vite server that never reloads the page.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** WebGPU on, no background traffic (playwright.config.ts uses them too). */
export const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** CHROMIUM_PATH, else /usr/bin/chromium, else (undefined) Playwright's own browser. */
export function chromiumPath() {
  return process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
}

export function launchChromium() {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/**
 * Vite in this process with the project's vite.config.ts (COOP/COEP headers, fs.allow), without file
 * watching, HMR or its WebSocket: files written under public/ or edits elsewhere in the tree must not
 * reload a page in the middle of a measurement. `port` 0 picks a free one.
 */
export async function startQuietVite(port = 0, logLevel = 'warn') {
  const { createServer: createViteServer } = await import('vite');
  const server = await createViteServer({
    root,
    configFile: resolve(root, 'vite.config.ts'),
    logLevel,
    clearScreen: false,
    server: { port, strictPort: port !== 0, host: '127.0.0.1', hmr: false, ws: false, watch: null },
  });
  await server.listen();
  return server;
}
