// What a visit to a built site costs, counted where a static host counts it: a plain static server
// (bench/lib/countingServer.ts: no compression) serving a built folder, headless Chromium with a
// fresh profile (empty HTTP cache, IndexedDB and service worker), as the tests launch it.
//   npx tsx bench/firstVisitBytes.ts [--dist dist] [--page /] [--query "..."] [--more "q2" --more "q3"] [--backend webgpu|cpu] [--list] [--wait 120]
// Build first (`npm run build`). Prints one JSON object:
//   - first_result: bytes the server sent until the first hit of --query is on screen, by kind, and the time from navigation;
//   - more_queries: for each --more query typed after it, the bytes until its hits are on screen;
//   - hybrid_ready: bytes and time until the page says semantic ranking is on ([data-testid=semantic-state][data-state=on]);
//   - offline_ready: bytes and time until the page's offline copy is complete (body[data-offline]);
//   - second_visit: a new tab in the same profile, the same query: bytes the server sent until its first hit.
// --list prints every response (time, bytes, path) on stderr.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from '@playwright/test';
import { launchChromium } from '../scripts/lib/browser.ts';
import { startCountingServer, tally, type Served } from './lib/countingServer.ts';

const { values: o } = parseArgs({
  options: {
    dist: { type: 'string', default: 'dist' },
    page: { type: 'string', default: '/' },
    query: { type: 'string', default: 'make a copy of a list without sharing the items' },
    more: { type: 'string', multiple: true, default: ['sort a dictionary by value', 'read a file line by line'] },
    backend: { type: 'string' },
    wait: { type: 'string', default: '120' },
    list: { type: 'boolean', default: false },
  },
});
const dist = resolve(o.dist);
if (!existsSync(join(dist, 'index.html'))) {
  console.error(`firstVisitBytes: ${dist}/index.html is missing; run npm run build first`);
  process.exit(2);
}
const waitMs = Number(o.wait) * 1000;

/** The kind of a served path, by the site's bundle layout (docs/FORMATS.md). */
function kindOf(path: string): string {
  if (/\/model\/(query_encoder|doc_encoder)[^/]*\.onnx$|\/model\/vocab\.txt$/.test(path)) return 'query model';
  if (/\/model\/model\.json$|\/index\/manifest\.json$/.test(path)) return 'descriptors';
  if (/\/index\/vectors\//.test(path)) return 'vectors';
  if (/\/index\/lexical\//.test(path)) return 'lexical';
  if (/\/index\/documents\/fragments\//.test(path)) return 'fragments';
  if (/\/index\/documents\//.test(path)) return 'documents map';
  if (/\/index\/metadata\//.test(path)) return 'metadata shards';
  if (/\/index\/graph\//.test(path)) return 'graph';
  if (/\.wasm(\.gz)?$/.test(path)) return 'wasm';
  if (/\.m?js$/.test(path)) return 'js';
  return 'other';
}

const tallied = (rows: Served[]) => tally(rows, kindOf);

const server = await startCountingServer(dist);
const browser = await launchChromium();

async function searchAndWait(page: Page, query: string): Promise<number> {
  await page.getByTestId('search-input').fill(query, { timeout: waitMs });
  await page.waitForFunction(
    (q) => document.querySelector('ol.results')?.getAttribute('data-query') === q && document.querySelectorAll('[data-testid=hit]').length > 0,
    query,
    { timeout: waitMs, polling: 10 },
  );
  return Date.now();
}

try {
  const context = await browser.newContext(); // a fresh profile: nothing cached
  const page = await context.newPage();
  const url = new URL(o.page, server.url);
  if (o.backend) url.searchParams.set('backend', o.backend);
  const t0 = Date.now();
  await page.goto(url.href, { waitUntil: 'commit' });
  const firstAt = await searchAndWait(page, o.query);
  const first = server.between(t0 - 1, firstAt);
  const firstHit = await page.evaluate(() => document.querySelector('[data-testid=hit] a')?.getAttribute('href') ?? null);
  const rankedBy = await page.evaluate(() => document.querySelector('ol.results')?.getAttribute('data-ranked-by') ?? null);

  const hybridAt = await page
    .waitForSelector('[data-testid=semantic-state][data-state=on]', { timeout: waitMs, state: 'attached' })
    .then(() => Date.now())
    .catch(() => null);
  const offlineAt = await page
    .waitForFunction(() => document.body.dataset.offline, undefined, { timeout: waitMs })
    .then(() => Date.now())
    .catch(() => null);
  const offlineState = await page.evaluate(() => document.body.dataset.offline ?? null);
  await new Promise((r) => setTimeout(r, 500)); // late writes of the offline copy

  // After the neural half and the offline copy (or the wait): what a new query itself fetches, in the
  // mode the page is in (hybrid). `own`: its lexical chunks and fragments, the files a query asks for.
  const more: { query: string; bytes: number; own_bytes: number; requests: number; ms: number; ranked_by: string | null }[] = [];
  for (const q of o.more ?? []) {
    const t = Date.now();
    const at = await searchAndWait(page, q);
    const rows = server.between(t, at);
    const own = rows.filter((r) => ['lexical', 'fragments'].includes(kindOf(r.path)));
    const rankedBy = await page.evaluate(() => document.querySelector('ol.results')?.getAttribute('data-ranked-by') ?? null);
    more.push({ query: q, bytes: tallied(rows).total, own_bytes: tallied(own).total, requests: rows.length, ms: at - t, ranked_by: rankedBy });
  }

  const tSecond = Date.now();
  const second = await context.newPage();
  const t2 = Date.now();
  await second.goto(url.href, { waitUntil: 'commit' });
  const secondAt = await searchAndWait(second, o.query);

  if (o.list) server.list(t0);
  const demo = existsSync(join(dist, 'generated/demo/demo.json')) ? JSON.parse(readFileSync(join(dist, 'generated/demo/demo.json'), 'utf8')) : null;
  console.log(
    JSON.stringify(
      {
        site: dist,
        server: 'plain static (sirv, no compression), bytes counted at the server',
        corpus: demo?.corpus?.name ?? null,
        documents: demo?.corpus?.documents ?? null,
        query: o.query,
        first_result: { ms: firstAt - t0, ranked_by: rankedBy, first_hit: firstHit, ...tallied(first) },
        more_queries: more,
        hybrid_ready: hybridAt === null ? null : { ms: hybridAt - t0, ...tallied(server.between(t0 - 1, hybridAt)) },
        offline_ready: offlineAt === null ? null : { ms: offlineAt - t0, state: offlineState, ...tallied(server.between(t0 - 1, offlineAt)) },
        second_visit: { ms: secondAt - t2, ...tallied(server.between(tSecond, secondAt)) },
      },
      null,
      1,
    ),
  );
  await context.close();
} finally {
  await browser.close();
  await server.close();
}
