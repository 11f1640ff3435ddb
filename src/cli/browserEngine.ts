// `eval --engine browser`: the same queries through the browser engine in headless Chromium
// (Debian's /usr/bin/chromium, or CHROMIUM_PATH; WebGPU via --enable-unsafe-webgpu), served by
// Vite from 127.0.0.1 with the project's vite.config.ts. The page is e2e/pages/evalHarness.html.
// Needs the dev dependencies (vite, @playwright/test): a development and testing tool.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SearchMode } from '../core/ranking.ts';
import { CliError } from './errors.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface BrowserRun {
  results: Map<string, { id: string; score: number }[]>;
  backend: string;
  adapter: string;
}

export async function browserSearchAll(
  indexDir: string,
  modelDir: string | null,
  queries: { id: string; text: string }[],
  mode: SearchMode,
  k: number,
): Promise<Map<string, { id: string; score: number }[]>> {
  if (!modelDir) throw new CliError('--engine browser needs the model the index was built with (the page engine loads it): pass --model', 2);
  let vite: typeof import('vite');
  let pw: typeof import('@playwright/test');
  try {
    vite = await import('vite');
    pw = await import('@playwright/test');
  } catch {
    throw new CliError('--engine browser needs the dev dependencies vite and @playwright/test (npm ci installs them)', 3);
  }
  const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
  const abs = (p: string) => path.resolve(p);
  const server = await vite.createServer({
    root: ROOT,
    configFile: path.join(ROOT, 'vite.config.ts'),
    logLevel: 'error',
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null, fs: { allow: [ROOT, abs(indexDir), abs(modelDir)] } },
  });
  await server.listen();
  const addr = server.httpServer!.address() as { port: number };
  const base = `http://127.0.0.1:${addr.port}`;
  const browser = await pw.chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    await page.goto(`${base}/e2e/pages/evalHarness.html`);
    await page.waitForFunction(() => window.evalHarnessReady === true, null, { timeout: 120_000 });
    const run = await page.evaluate(
      ([m, i, q, mo, kk]) => window.evalSearch(m as string, i as string, q as { id: string; text: string }[], mo as SearchMode, kk as number),
      [`/@fs${abs(modelDir)}/`, `/@fs${abs(indexDir)}/`, queries, mode, k] as const,
    );
    process.stderr.write(`browser engine: scorer ${run.info.backend} on ${run.info.adapter}, encoder ${run.info.encoder}; ${queries.length} queries in ${(run.ms / 1000).toFixed(1)} s\n`);
    return new Map(Object.entries(run.results).map(([q, hits]) => [q, hits.map((h) => ({ id: h.docId, score: h.score }))]));
  } finally {
    await browser.close();
    await server.close();
  }
}
