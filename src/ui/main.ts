// The search page: reads its configuration (the JSON block in index.html, overridden by URL
// parameters within its allowBundlesFrom list), mounts the search view and registers the offline
// service worker.
import pageCss from './page.css?inline';
import viewCss from './style.css?inline';
import { boundQuery } from '../core/query.ts';
import { approximateSetting, createSearch, SEARCH_DEFAULTS, SEARCH_MODES, type SearchMode } from '../lib/search.ts';
import { checkBundleParam, parseAllowList } from './bundleSource.ts';
import { cacheBundles } from './offline.ts';
import { mountSearchView } from './view.ts';

interface PageConfig {
  model: string;
  index: string;
  examples?: string[];
  /** A demo.json (scripts/demoIndex.ts) describing the configured bundles: corpus, model, example queries. */
  about?: string;
  /** Where ?model= / ?index= may point: origins or URL folder prefixes; absent: this page's origin only. */
  allowBundlesFrom?: string[];
}

/** What scripts/demoIndex.ts records about the demo bundles (public/generated/demo/demo.json). */
interface DemoAbout {
  kind?: 'corpus' | 'synthetic';
  model?: { id?: string };
  corpus?: { name?: string; passages?: number; documents?: number; package?: string | null; license?: string | null };
  examples?: unknown;
}

function readConfig(): PageConfig {
  const text = document.getElementById('hypencoder-config')?.textContent;
  const cfg: Partial<PageConfig> = text ? JSON.parse(text) : {};
  return {
    model: cfg.model ?? '/generated/demo/model/',
    index: cfg.index ?? '/generated/demo/index/',
    examples: Array.isArray(cfg.examples) ? cfg.examples.filter((e): e is string => typeof e === 'string') : [],
    about: typeof cfg.about === 'string' ? cfg.about : undefined,
    // Anything but an array of strings is treated as absent: the strict default, same origin only.
    allowBundlesFrom: Array.isArray(cfg.allowBundlesFrom) ? cfg.allowBundlesFrom.filter((e): e is string => typeof e === 'string') : undefined,
  };
}

/** The demo's description, when the page serves the configured bundles and one exists (else null). */
async function readAbout(url: string | undefined): Promise<DemoAbout | null> {
  if (!url) return null;
  try {
    const r = await fetch(url, { cache: 'no-cache' });
    return r.ok ? ((await r.json()) as DemoAbout) : null;
  } catch {
    return null;
  }
}

function aboutLine(a: DemoAbout): string | undefined {
  const model = a.model?.id;
  if (a.kind === 'corpus' && a.corpus?.name) {
    // corpus.documents counts the source pages; passages, what they were split into.
    const pages = a.corpus.documents ? `${a.corpus.documents.toLocaleString('en')} pages` : '';
    const passages = a.corpus.passages ? `${a.corpus.passages.toLocaleString('en')} passages` : '';
    const n = pages ? ` (${[pages, passages].filter(Boolean).join(', ')})` : '';
    const src = [a.corpus.package, a.corpus.license?.replace(/;.*$/, '')].filter(Boolean).join(', ');
    return `Searching the ${a.corpus.name}${n}${src ? ` [${src}]` : ''} with the model ${model ?? '(unnamed)'}.`;
  }
  if (a.kind === 'synthetic')
    return `Model: ${model ?? 'synthetic'} (synthetic, no trained model). Corpus: ${a.corpus?.documents?.toLocaleString('en') ?? ''} random document vectors.`;
  return undefined;
}

const params = new URLSearchParams(location.search);
const config = readConfig();
const allowed = parseAllowList(config.allowBundlesFrom, location.href);
if (allowed.invalid.length) console.warn(`hypencoder-config: allowBundlesFrom entries ignored (not http(s) URLs): ${allowed.invalid.join(', ')}`);
/** Bundle URLs from the address bar that lie outside allowBundlesFrom: refused, said on the page. */
const refusals: { what: 'model' | 'index'; reason: string }[] = [];
function bundleUrl(what: 'model' | 'index', configured: string): string {
  const value = params.get(what);
  if (value === null) return configured;
  const checked = checkBundleParam(what, value, location.href, allowed.places);
  if (checked.ok) return checked.url;
  refusals.push({ what, reason: checked.reason });
  return configured; // the link cannot replace the configured bundles
}
const modelUrl = bundleUrl('model', config.model);
const indexUrl = bundleUrl('index', config.index);
const configuredBundles = modelUrl === config.model && indexUrl === config.index;
// demo.json describes the configured bundles only: not the ones ?model= / ?index= name.
const about = configuredBundles ? await readAbout(config.about) : null;
const aboutExamples = Array.isArray(about?.examples) ? about.examples.filter((e): e is string => typeof e === 'string') : [];
const scorer = params.get('backend');
const encoder = params.get('encoder');
const modeParam = params.get('mode') as SearchMode | null;
const preload = params.get('preload');

document.head.append(Object.assign(document.createElement('style'), { textContent: pageCss + viewCss }));

const search = createSearch({
  model: modelUrl,
  index: indexUrl,
  scorer: scorer === 'cpu' || scorer === 'webgpu' ? scorer : undefined,
  encoder: encoder === 'wasm' || encoder === 'webgpu' ? encoder : undefined,
  preload: preload === 'all' || preload === 'lexical' ? preload : undefined,
  approximate: approximateSetting(params.get('approximate')),
});

// Offline copies of the bundles are fetched after the first results are shown, or once the page
// has been idle (no typing) for OFFLINE_IDLE_MS after the engine is ready, and only once the neural
// half is in (or failed): never while the first search or the neural half's download waits, and the
// copy then holds the onnxruntime build the engine chose. On a first visit the engine's own fetches bypass the service worker (the page is not
// controlled yet), so caching fetches the files once more through it, plus the files the engine
// does not load (the neighbor graph; the lexical index until a lexical or hybrid search).
const OFFLINE_IDLE_MS = 5_000;
let offlineStarted = false;
let offlineTimer: ReturnType<typeof setTimeout> | undefined;
let offlineWanted = false;
function startOfflineCaching(): void {
  clearTimeout(offlineTimer);
  offlineWanted = true;
  const info = search.info;
  if (offlineStarted || !info || (info.loaded === 'lexical' && !info.neuralError)) return; // 'upgrade' starts it
  offlineStarted = true;
  // The service worker is registered here (cacheBundles), not at load: its install precaches the
  // app's files (onnxruntime's JS among them), which must not compete with the first result.
  cacheBundles(modelUrl, indexUrl, search.info?.startEncoder === 'webgpu' ? 'webgpu' : 'wasm').then(
    (ok) => (document.body.dataset.offline = ok ? 'ready' : 'unavailable'),
    () => (document.body.dataset.offline = 'unavailable'),
  );
}
// A few seconds after the neural half is in, so the list's new ranking is not held up by the copy.
search.on('upgrade', () => {
  if (offlineWanted) setTimeout(startOfflineCaching, 3_000);
});
function armOfflineTimer(): void {
  clearTimeout(offlineTimer);
  if (!offlineStarted && document.body.dataset.ready === 'true') offlineTimer = setTimeout(startOfflineCaching, OFFLINE_IDLE_MS);
}

const view = mountSearchView(document.getElementById('app')!, search, {
  title: 'hypencoder-web',
  examples: aboutExamples.length ? aboutExamples : config.examples,
  about: about ? aboutLine(about) : undefined,
  initialQuery: params.get('q') ?? undefined,
  debug: params.get('debug') === '1',
  initialMode: modeParam && SEARCH_MODES.includes(modeParam) ? modeParam : undefined,
  onChange(query, mode) {
    // The address bar holds the query and mode, so a search can be shared or bookmarked.
    const u = new URL(location.href);
    // The query as the engine searches it (cut to MAX_QUERY_CHARS): a pasted book stays out of the URL.
    if (query.trim()) u.searchParams.set('q', boundQuery(query.trim()).text);
    else u.searchParams.delete('q');
    if (mode !== SEARCH_DEFAULTS.mode) u.searchParams.set('mode', mode);
    else u.searchParams.delete('mode');
    history.replaceState(null, '', u);
    armOfflineTimer(); // typing: the idle wait starts again
  },
  onReady() {
    document.body.dataset.ready = 'true';
    armOfflineTimer();
  },
  onResults() {
    // After the first list of results is rendered (a task later: the list is not held up by it).
    setTimeout(startOfflineCaching, 0);
  },
  onError() {
    document.body.dataset.ready = 'error';
  },
});
view.input.focus();

if (refusals.length) {
  // Above the view, as text: the link's bundles were not loaded; the configured ones are searched.
  const refused = document.createElement('div');
  refused.className = 'refused';
  refused.setAttribute('role', 'alert');
  refused.dataset.testid = 'bundle-refused';
  for (const r of refusals) {
    refused.append(
      Object.assign(document.createElement('p'), {
        textContent: `The ${r.what} named in the link was not loaded: ${r.reason}. This site's own ${r.what} is used instead.`,
      }),
    );
  }
  document.getElementById('app')!.before(refused);
}

// "/" anywhere on the page jumps to the search box, as on most search sites.
document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement;
  if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !(t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t.isContentEditable)) {
    e.preventDefault();
    view.input.focus();

    if (refusals.length) {
      // Above the view, as text: the link's own bundles were not loaded, the configured ones were.
      const refused = Object.assign(document.createElement('p'), {
        className: 'refused',
        role: 'alert',
        textContent: `Not loaded from the link: ${refusals.join('; ')}. Showing this site's own ${modelUrl === config.model && indexUrl === config.index ? 'bundles' : 'bundle for what was refused'} instead.`,
      });
      refused.dataset.testid = 'bundle-refused';
      document.getElementById('app')!.before(refused);
    }
    view.input.select();
  }
});
