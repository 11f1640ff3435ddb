// What a visit to a Pagefind-indexed site costs, counted the way bench/firstVisitBytes.ts counts ours,
// so the two can stand side by side on the same pages: the same plain static server
// (bench/lib/countingServer.ts: sirv, no compression, bytes counted at the server), headless Chromium
// with a fresh profile, the same queries typed into Pagefind's default UI.
//   npx tsx bench/pagefindBytes.ts --site <folder with pagefind/> [--write-page] [--page /pagefind-test.html]
//     [--query "..."] [--more "q2" --more "q3"] [--wait 120] [--list]
// --write-page writes the test page (Pagefind's default UI, nothing else) into --site first; write it
// after indexing, or Pagefind indexes it too. Prints one JSON object:
//   - first_result: bytes until the first result link of --query is on screen (time from navigation),
//     and results_loaded: until no result of the first page is a loading placeholder any more;
//   - more_queries: for each --more query typed after it, bytes until its results are on screen;
//   - second_visit: a new tab in the same profile (HTTP cache kept; Pagefind has no service worker),
//     the same query: bytes the server sent until its first result;
//   - index: pages (pagefind-entry.json) and the bytes of pagefind/ on disk.
//
// The second site of issue 16 (Debian's libstdc++ 12 manual and API reference, 3,906 pages) was built so:
//   mkdir -p /tmp/site2 && cd /tmp/site2 && apt-get download libstdc++-12-doc   # 12.2.0-14+deb12u1
//   dpkg-deb -x libstdc++-12-doc_*.deb pkg && cp -r pkg/usr/share/doc/gcc-12-base/libstdc++ site
//   # ours: index bundle, the built page (dist/) with its config block pointed at it, the pages under /docs/
//   node /work/main/bin/hypencoder-web.js index site --model /work/main/models/default --out built-index --base-url /docs/
//   cp -r /work/main/dist built && rm -rf built/generated/demo && mkdir built/search && mv built-index built/search/index
//   cp -r /work/main/dist/generated/demo/model built/search/model && cp -r site built/docs
//   # built/index.html's hypencoder-config: model /search/model/, index /search/index/, about /search/about.json
//   npx tsx bench/firstVisitBytes.ts --dist /tmp/site2/built --query Q1 --more Q2 --more Q3 --wait 180
//   # Pagefind on the same pages (--force-language en: the pages carry no lang, and ours stems English)
//   npx -y pagefind@1 --site site --force-language en
//   npx tsx bench/pagefindBytes.ts --site /tmp/site2/site --write-page --query Q1 --more Q2 --more Q3 --wait 180
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from '@playwright/test';
import { launchChromium } from '../scripts/lib/browser.ts';
import { type Served, startCountingServer, tally } from './lib/countingServer.ts';

const { values: o } = parseArgs({
  options: {
    site: { type: 'string' },
    page: { type: 'string', default: '/pagefind-test.html' },
    'write-page': { type: 'boolean', default: false },
    query: { type: 'string', default: 'sort a vector with a custom comparator' },
    more: { type: 'string', multiple: true, default: ['is shared_ptr thread safe', 'enable debug mode iterator checks'] },
    wait: { type: 'string', default: '120' },
    list: { type: 'boolean', default: false },
  },
});
if (!o.site) {
  console.error('pagefindBytes: --site <folder> is required (a folder Pagefind has indexed: it holds pagefind/)');
  process.exit(2);
}
const site = resolve(o.site);
const entryPath = join(site, 'pagefind', 'pagefind-entry.json');
if (!existsSync(entryPath)) {
  console.error(`pagefindBytes: ${entryPath} is missing; run \`npx -y pagefind@1 --site ${o.site}\` first`);
  process.exit(2);
}
const pagePath = join(site, o.page.replace(/^\/+/, ''));
if (o['write-page'])
  writeFileSync(
    pagePath,
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Pagefind default UI</title>
<link href="/pagefind/pagefind-ui.css" rel="stylesheet">
<script src="/pagefind/pagefind-ui.js"></script>
</head>
<body data-pagefind-ignore="all">
<div id="search"></div>
<script>window.addEventListener('DOMContentLoaded', () => { new PagefindUI({ element: '#search' }); });</script>
</body>
</html>
`,
  );
if (!existsSync(pagePath)) {
  console.error(`pagefindBytes: ${pagePath} is missing; pass --write-page to write Pagefind's default UI page there`);
  process.exit(2);
}
const waitMs = Number(o.wait) * 1000;

/** The kind of a served path, by Pagefind's output layout. */
function kindOf(path: string): string {
  if (/\/pagefind\/index\//.test(path)) return 'index chunks';
  if (/\/pagefind\/fragment\//.test(path)) return 'fragments';
  if (/\/pagefind\/.*\.pf_meta$/.test(path)) return 'metadata';
  if (/\/pagefind\/wasm\./.test(path)) return 'wasm';
  if (/\.m?js$/.test(path)) return 'js';
  if (/\.css$/.test(path)) return 'css';
  if (/pagefind-entry\.json$/.test(path)) return 'entry';
  return 'other';
}

const tallied = (rows: Served[]) => tally(rows, kindOf);

function bytesOnDisk(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    bytes += statSync(join(e.parentPath, e.name)).size;
    files++;
  }
  return { bytes, files };
}

const server = await startCountingServer(site);
const browser = await launchChromium();

/** Types the query into Pagefind's input; resolves when its results (a link with a title) are on screen. */
async function searchAndWait(page: Page, query: string): Promise<number> {
  await page.locator('.pagefind-ui__search-input').fill(query, { timeout: waitMs });
  await page.waitForFunction(
    (q) => {
      // The message names the query once its results are in ("N results for q"; "Searching for q..." before).
      const msg = document.querySelector('.pagefind-ui__message')?.textContent ?? '';
      return msg.includes(q) && !/^Searching/.test(msg) && document.querySelector('.pagefind-ui__result-link') !== null;
    },
    query,
    { timeout: waitMs, polling: 10 },
  );
  return Date.now();
}

try {
  const context = await browser.newContext(); // a fresh profile: nothing cached
  const page = await context.newPage();
  const url = new URL(o.page, server.url);
  const t0 = Date.now();
  await page.goto(url.href, { waitUntil: 'commit' });
  const firstAt = await searchAndWait(page, o.query);
  const first = server.between(t0 - 1, firstAt);
  const firstHit = await page.evaluate(() => document.querySelector('.pagefind-ui__result-link')?.getAttribute('href') ?? null);
  const message = await page.evaluate(() => document.querySelector('.pagefind-ui__message')?.textContent ?? null);
  const loadedAt = await page
    .waitForFunction(() => document.querySelector('.pagefind-ui__result .pagefind-ui__loading') === null, undefined, { timeout: waitMs, polling: 10 })
    .then(() => Date.now());

  const more: { query: string; bytes: number; requests: number; ms: number; message: string | null }[] = [];
  for (const q of o.more ?? []) {
    const t = Date.now();
    const at = await searchAndWait(page, q);
    const rows = server.between(t, at);
    const msg = await page.evaluate(() => document.querySelector('.pagefind-ui__message')?.textContent ?? null);
    more.push({ query: q, bytes: tallied(rows).total, requests: rows.length, ms: at - t, message: msg });
  }
  await new Promise((r) => setTimeout(r, 500)); // late fragment fetches of the last query

  const tSecond = Date.now();
  const second = await context.newPage();
  const t2 = Date.now();
  await second.goto(url.href, { waitUntil: 'commit' });
  const secondAt = await searchAndWait(second, o.query);

  if (o.list) server.list(t0);
  const entry = JSON.parse(readFileSync(entryPath, 'utf8')) as { version?: string; languages?: Record<string, { page_count?: number }> };
  const pages = Object.values(entry.languages ?? {}).reduce((s, l) => s + (l.page_count ?? 0), 0);
  console.log(
    JSON.stringify(
      {
        site,
        server: 'plain static (sirv, no compression), bytes counted at the server',
        engine: `pagefind ${entry.version ?? '?'} (default UI)`,
        index: { pages, ...bytesOnDisk(join(site, 'pagefind')) },
        query: o.query,
        first_result: { ms: firstAt - t0, message, first_hit: firstHit, ...tallied(first) },
        results_loaded: { ms: loadedAt - t0, ...tallied(server.between(t0 - 1, loadedAt)) },
        more_queries: more,
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
