// `eval --engine browser`: the same queries through the browser engine in headless Chromium
// (Debian's /usr/bin/chromium, or CHROMIUM_PATH; WebGPU via --enable-unsafe-webgpu), served by
// Vite from 127.0.0.1 with the project's vite.config.ts. The page is src/worker/evalPage.html.
// Needs the dev dependencies (vite, @playwright/test): a development and testing tool.
import path from 'node:path';
import { SEARCH_DEFAULTS, type SearchMode } from '../core/search.ts';
import { SHARD_LIST_FILE } from '../core/formats/shardList.ts';
import { CliError } from './errors.ts';
import { isShardListFolder } from './indexSet.ts';
import { CHROMIUM_ARGS, chromiumPath, startQuietVite } from './headlessBrowser.ts';

/** The page this command drives, from the repository root. */
export const EVAL_PAGE = '/src/worker/evalPage.html';

export interface BrowserRun {
  results: Map<string, { id: string; score: number }[]>;
  backend: string;
  adapter: string;
}

/** `indexDirs`: bundle folders or folders with a shard list, searched as one collection (docs/FORMATS.md). */
export async function browserSearchAll(
  indexDirs: string[],
  modelDir: string | null,
  queries: { id: string; text: string }[],
  mode: SearchMode,
  k: number,
  typos: boolean = SEARCH_DEFAULTS.typos,
): Promise<Map<string, { id: string; score: number }[]>> {
  if (!modelDir) throw new CliError('--engine browser needs the model the index was built with (the page engine loads it): pass --model', 2);
  let pw: typeof import('@playwright/test');
  try {
    await import('vite');
    pw = await import('@playwright/test');
  } catch {
    throw new CliError('--engine browser needs the dev dependencies vite and @playwright/test (npm ci installs them)', 3);
  }
  const abs = (p: string) => path.resolve(p);
  const server = await startQuietVite(0, 'error', [...indexDirs.map(abs), abs(modelDir)]);
  const urls = indexDirs.map((d) => (isShardListFolder(d) ? `/@fs${abs(d)}/${SHARD_LIST_FILE}` : `/@fs${abs(d)}/`));
  const addr = server.httpServer!.address() as { port: number };
  const base = `http://127.0.0.1:${addr.port}`;
  const browser = await pw.chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    await page.goto(`${base}${EVAL_PAGE}`);
    await page.waitForFunction(() => window.evalPageReady === true, null, { timeout: 120_000 });
    const run = await page.evaluate(
      ([m, i, q, mo, kk, ty]) =>
        window.evalSearch(m as string, i as string | string[], q as { id: string; text: string }[], mo as SearchMode, kk as number, ty as boolean),
      [`/@fs${abs(modelDir)}/`, urls.length === 1 ? urls[0] : urls, queries, mode, k, typos] as const,
    );
    process.stderr.write(
      `browser engine: scorer ${run.info.backend} on ${run.info.adapter}, encoder ${run.info.encoder}; ${queries.length} queries in ${(run.ms / 1000).toFixed(1)} s\n`,
    );
    return new Map(Object.entries(run.results).map(([q, hits]) => [q, hits.map((h) => ({ id: h.docId, score: h.score }))]));
  } finally {
    await browser.close();
    await server.close();
  }
}
