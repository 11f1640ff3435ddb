// What a first visit to the demo costs: bytes over the network until the first result, and the time.
//   npx tsx bench/firstVisitBytes.ts [--url http://127.0.0.1:4173/] [--query "..."] [--backend webgpu|cpu] [--list] [--offline-wait 120]
// Without --url it makes the demo bundles if needed (scripts/demoIndex.ts) and serves the repository
// with Vite's dev server (modules unbundled: the js/wasm figure is the dev server's, not a built
// site's; measure a build with `npm run build && npm run preview` and --url). A fresh browser
// profile (empty HTTP cache, IndexedDB and service worker), headless Chromium as the tests launch it;
// the query is typed as soon as the box exists. Prints one JSON object: bytes received (headers +
// body as transferred) per kind of resource for the requests that finished before the first result,
// time to first result (from navigation), and the index's size per document from its manifest.
// Then, on a site with a service worker (a build), it waits up to --offline-wait seconds for the
// page's offline caching (body[data-offline]) and reports the bytes from the first result until then.
// Bytes are counted once per network response: the page's and its workers' requests, and the
// service worker's own fetches (responses the service worker served from its cache are not counted).
import { parseArgs } from 'node:util';
import { launchChromium, startQuietVite } from '../scripts/lib/browser.ts';

const { values: o } = parseArgs({
  options: {
    url: { type: 'string' },
    query: { type: 'string', default: 'make a copy of a list without sharing the items' },
    backend: { type: 'string' },
    timeout: { type: 'string', default: '600' },
    list: { type: 'boolean', default: false },
    'offline-wait': { type: 'string', default: '120' },
  },
});
const KINDS = ['model', 'vectors', 'metadata', 'lexical', 'js/wasm', 'other'];

/** The kind of a request, by its path (the demo's bundle layout, docs/FORMATS.md) and type. */
function kindOf(url: string, modelPath: string, indexPath: string, contentType = ''): string {
  const p = new URL(url).pathname;
  if (p.startsWith(modelPath)) return 'model';
  if (p.startsWith(indexPath)) {
    const rest = p.slice(indexPath.length);
    if (rest.startsWith('vectors/')) return 'vectors';
    if (rest.startsWith('lexical/')) return 'lexical';
    if (rest.startsWith('metadata/') || rest === 'manifest.json') return 'metadata';
    return 'other';
  }
  if (/\.(m?js|ts|tsx|wasm)$/.test(p) || /javascript|wasm/.test(contentType)) return 'js/wasm';
  return 'other';
}

/** What the manifest says of the index's size (docs/FORMATS.md). */
interface ManifestSizes {
  doc_count: number;
  dim: number;
  files?: { kind: string; bytes: number }[];
  model?: { id: string };
  storage?: { dtype: string };
}

let server: Awaited<ReturnType<typeof startQuietVite>> | null = null;
let base = o.url;
if (!base) {
  const { ensureDemoIndex } = await import('../scripts/demoIndex.ts');
  await ensureDemoIndex({ log: (s) => process.stderr.write(`${s}\n`) });
  server = await startQuietVite(0, 'error');
  base = server.resolvedUrls?.local[0];
  if (!base) throw new Error('the dev server has no local URL');
}
const browser = await launchChromium();
try {
  const context = await browser.newContext(); // a fresh profile: nothing cached
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  const pageUrl = new URL(base);
  if (o.backend) pageUrl.searchParams.set('backend', o.backend);
  // The configured bundle folders (index.html's JSON block), to sort requests by kind.
  const html = await (await fetch(new URL('/', base))).text();
  const cfg = JSON.parse(/<script type="application\/json" id="hypencoder-config">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '{}');
  const modelPath = new URL(cfg.model ?? '/generated/demo/model/', base).pathname;
  const indexPath = new URL(cfg.index ?? '/generated/demo/index/', base).pathname;

  const finished: { url: string; kind: string; bytes: number; at: number; fromServiceWorker: boolean }[] = [];
  context.on('requestfinished', async (req) => {
    const at = Date.now();
    try {
      const s = await req.sizes();
      const resp = await req.response();
      finished.push({
        url: req.url(),
        kind: kindOf(req.url(), modelPath, indexPath, resp?.headers()['content-type'] ?? ''),
        bytes: s.responseHeadersSize + s.responseBodySize,
        at,
        fromServiceWorker: resp?.fromServiceWorker() ?? false,
      });
    } catch {
      // a request of a closed page
    }
  });

  const t0 = Date.now();
  await page.goto(pageUrl.href, { waitUntil: 'commit' });
  const input = page.getByTestId('search-input');
  await input.fill(o.query, { timeout: Number(o.timeout) * 1000 });
  const typedAt = Date.now();
  await page.waitForFunction(
    (q) => document.querySelector('ol.results')?.getAttribute('data-query') === q && document.querySelectorAll('[data-testid=hit]').length > 0,
    o.query,
    { timeout: Number(o.timeout) * 1000, polling: 10 },
  );
  const firstResultAt = Date.now();
  await new Promise((r) => setTimeout(r, 200)); // late requestfinished handlers (sizes are async)
  const info = await page.evaluate(() => ({
    badge: document.querySelector('[data-testid=backend]')?.textContent ?? null,
    about: document.querySelector('[data-testid=about]')?.textContent ?? null,
    notice: document.querySelector('[role=note]:not([hidden])')?.textContent ?? null,
    hits: document.querySelectorAll('[data-testid=hit]').length,
    firstHit: document.querySelector('[data-testid=hit] a')?.getAttribute('href') ?? null,
  }));
  // The offline caching that follows the first result (a built site's service worker; none on the dev server).
  const hasWorker = await page.evaluate(async () => !!(await navigator.serviceWorker?.getRegistration()));
  let offline = null;
  if (hasWorker && Number(o['offline-wait']) > 0) {
    const t = await page
      .waitForFunction(() => document.body.dataset.offline, undefined, { timeout: Number(o['offline-wait']) * 1000 })
      .then(
        () => Date.now(),
        () => null,
      );
    await new Promise((r) => setTimeout(r, 500));
    offline = { state: await page.evaluate(() => document.body.dataset.offline ?? null), ready_ms: t === null ? null : t - t0 };
  }
  const offlineAt = offline?.ready_ms != null ? t0 + offline.ready_ms + 500 : Date.now();
  const before = finished.filter((f) => f.at <= firstResultAt && !f.fromServiceWorker);
  const after = finished.filter((f) => f.at > firstResultAt && f.at <= offlineAt && !f.fromServiceWorker);
  if (o.list)
    for (const f of finished)
      process.stderr.write(
        `${f.at <= firstResultAt ? 'before' : 'after '} ${f.fromServiceWorker ? 'sw ' : '   '} ${f.kind.padEnd(8)} ${String(f.bytes).padStart(9)} ${f.url}\n`,
      );
  const bytesByKind = Object.fromEntries(KINDS.map((k) => [k, before.filter((f) => f.kind === k).reduce((s, f) => s + f.bytes, 0)]));
  const requestsByKind = Object.fromEntries(KINDS.map((k) => [k, before.filter((f) => f.kind === k).length]));
  const total = Object.values(bytesByKind).reduce((a, b) => a + b, 0);
  const afterByKind = Object.fromEntries(KINDS.map((k) => [k, after.filter((f) => f.kind === k).reduce((s, f) => s + f.bytes, 0)]));
  const afterTotal = Object.values(afterByKind).reduce((a, b) => a + b, 0);

  // The index's size per document, from its manifest (what a visit downloads is a subset).
  const manifest = (await (await fetch(new URL(`${indexPath}manifest.json`, base))).json()) as ManifestSizes;
  const about = await fetch(new URL(cfg.about ?? '/generated/demo/demo.json', base)).then(
    (r) => (r.ok ? r.json() : null),
    () => null,
  );
  const byFileKind: Record<string, number> = {};
  for (const f of manifest.files ?? []) byFileKind[f.kind] = (byFileKind[f.kind] ?? 0) + f.bytes;
  const indexBytes = Object.values(byFileKind).reduce((a, b) => a + b, 0);
  const n = manifest.doc_count;
  const perDoc = (b: number) => +(b / n).toFixed(1);
  const result = {
    url: pageUrl.href,
    server: server ? 'vite dev server (unbundled modules)' : 'given --url',
    query: o.query,
    model: manifest.model?.id ?? null,
    corpus: about?.corpus?.name ?? null,
    page: info,
    time_to_first_result_ms: firstResultAt - t0,
    time_typed_to_first_result_ms: firstResultAt - typedAt,
    bytes_before_first_result: { total, ...bytesByKind },
    requests_before_first_result: requestsByKind,
    offline_caching: offline && { ...offline, bytes_after_first_result: { total: afterTotal, ...afterByKind } },
    index: {
      passages: n,
      source_documents: about?.corpus?.documents ?? null,
      dim: manifest.dim,
      dtype: manifest.storage?.dtype ?? null,
      bytes: indexBytes,
      bytes_by_kind: byFileKind,
      vector_bytes_per_passage: perDoc(byFileKind.vectors ?? 0),
      total_bytes_per_passage: perDoc(indexBytes),
      ...(about?.corpus?.documents ? { total_bytes_per_source_document: +(indexBytes / about.corpus.documents).toFixed(1) } : {}),
    },
  };
  console.log(JSON.stringify(result, null, 1));
  await context.close();
} finally {
  await browser.close();
  await server?.close();
}
