// End-to-end latency of the search page, as a person sees it:
//   npx tsx bench/pageLatency.ts [--queries 100] [--backends webgpu,cpu]
// Serves the repository (the demo index is made if missing), opens the page in headless Chromium,
// and prints one JSON object per backend: first load (empty cache) and second load (reload; files
// from IndexedDB) until the page is ready, then the time from typing each query to its results on
// screen (median, p95), the debounce included.
import { parseArgs } from 'node:util';
import { launchChromium, startQuietVite } from '../scripts/lib/browser.ts';
import { ensureDemoIndex } from '../scripts/demoIndex.ts';
import { quantileMs } from './stats.ts';

const { values: o } = parseArgs({ options: { queries: { type: 'string', default: '100' }, backends: { type: 'string', default: 'webgpu,cpu' } } });
const WORDS = [
  'wing',
  'lift',
  'boundary',
  'layer',
  'heat',
  'transfer',
  'shock',
  'wave',
  'flow',
  'pressure',
  'supersonic',
  'panel',
  'flutter',
  'nozzle',
  'drag',
  'vortex',
];
const queries = Array.from({ length: Number(o.queries) }, (_, i) => `${WORDS[i % WORDS.length]} ${WORDS[(i * 7 + 3) % WORDS.length]} ${i}`);

await ensureDemoIndex();
const server = await startQuietVite(0, 'error');
const url = server.resolvedUrls?.local[0];
const browser = await launchChromium();
try {
  for (const backend of o.backends.split(',')) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const load = async () => {
      const t0 = Date.now();
      await page.waitForFunction(() => document.body.dataset.ready, undefined, { timeout: 300_000 });
      return Date.now() - t0;
    };
    await page.goto(`${url}?backend=${backend}`, { waitUntil: 'commit' });
    const firstLoadMs = await load();
    await page.reload({ waitUntil: 'commit' });
    const secondLoadMs = await load();
    const input = page.getByTestId('search-input');
    const times: number[] = [];
    for (const text of queries) {
      const t0 = Date.now();
      await input.fill(text);
      await page.waitForFunction((t) => document.querySelector('ol.results')?.getAttribute('data-query') === t, text, { timeout: 120_000, polling: 5 });
      times.push(Date.now() - t0);
    }
    const info = await page.evaluate(() => ({
      badge: document.querySelector('[data-testid=backend]')?.textContent,
      status: document.querySelector('[role=status]')?.textContent,
    }));
    times.sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        page: 'demo',
        backend,
        badge: info.badge,
        first_load_ms: firstLoadMs,
        second_load_ms: secondLoadMs,
        queries: times.length,
        e2e_ms_median: quantileMs(times, 0.5),
        e2e_ms_p95: quantileMs(times, 0.95),
        e2e_ms_max: times[times.length - 1],
      }),
    );
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
}
