// What every tool that drives headless Chromium shares (`eval --engine browser`, the Playwright
// config, the bench scripts): the browser (CHROMIUM_PATH, else Debian's chromium, else Playwright's
// own) with WebGPU on, and a Vite server that never reloads the page it serves.
// Vite is a dev dependency: it is imported only when a server is started.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogLevel, ViteDevServer } from 'vite';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** WebGPU on, no background traffic. */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** CHROMIUM_PATH, else /usr/bin/chromium, else (undefined) Playwright's own browser. */
export function chromiumPath(): string | undefined {
  return process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
}

/**
 * Vite in this process with the project's vite.config.ts (COOP/COEP headers, fs.allow), without file
 * watching, HMR or its WebSocket: files written under public/ or edits elsewhere in the tree must not
 * reload a page in the middle of a run. `port` 0 picks a free one; `allow`: more folders it may serve.
 */
export async function startQuietVite(port = 0, logLevel: LogLevel = 'warn', allow: string[] = []): Promise<ViteDevServer> {
  const { createServer } = await import('vite');
  const server = await createServer({
    root: ROOT,
    configFile: path.join(ROOT, 'vite.config.ts'),
    logLevel,
    clearScreen: false,
    server: {
      port,
      strictPort: port !== 0,
      host: '127.0.0.1',
      hmr: false,
      ws: false,
      watch: null,
      ...(allow.length ? { fs: { allow: [ROOT, ...allow] } } : {}),
    },
  });
  await server.listen();
  return server;
}
