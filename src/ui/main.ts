// The search page: reads its configuration (the JSON block in index.html, overridden by URL
// parameters), mounts the search view and registers the offline service worker.
import pageCss from './page.css?inline';
import viewCss from './style.css?inline';
import { createSearch, SEARCH_MODES, type SearchMode } from '../lib/search.ts';
import { cacheBundles, registerOffline } from './offline.ts';
import { mountSearchView } from './view.ts';

interface PageConfig {
  model: string;
  index: string;
  examples?: string[];
  /** A demo.json (scripts/demoIndex.js) describing the configured bundles: corpus, model, example queries. */
  about?: string;
}

/** What scripts/demoIndex.js records about the demo bundles (public/generated/demo/demo.json). */
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
    const n = a.corpus.documents ? ` (${a.corpus.documents.toLocaleString('en')} passages)` : '';
    const src = [a.corpus.package, a.corpus.license?.replace(/;.*$/, '')].filter(Boolean).join(', ');
    return `Searching the ${a.corpus.name}${n}${src ? ` [${src}]` : ''} with the model ${model ?? '(unnamed)'}.`;
  }
  if (a.kind === 'synthetic') return `Model: ${model ?? 'synthetic'} (synthetic, no trained model). Corpus: ${a.corpus?.documents?.toLocaleString('en') ?? ''} random document vectors.`;
  return undefined;
}

const params = new URLSearchParams(location.search);
const config = readConfig();
const modelUrl = params.get('model') ?? config.model;
const indexUrl = params.get('index') ?? config.index;
// demo.json describes the configured bundles only: not the ones ?model= / ?index= name.
const about = params.has('model') || params.has('index') ? null : await readAbout(config.about);
const aboutExamples = Array.isArray(about?.examples) ? about.examples.filter((e): e is string => typeof e === 'string') : [];
const scorer = params.get('backend');
const encoder = params.get('encoder');
const modeParam = params.get('mode') as SearchMode | null;

document.head.append(Object.assign(document.createElement('style'), { textContent: pageCss + viewCss }));
registerOffline();

const search = createSearch({
  model: modelUrl,
  index: indexUrl,
  scorer: scorer === 'cpu' || scorer === 'webgpu' ? scorer : undefined,
  encoder: encoder === 'wasm' || encoder === 'webgpu' ? encoder : undefined,
});

// Offline copies of the bundles are fetched after the first results are shown, or once the page
// has been idle (no typing) for OFFLINE_IDLE_MS after the engine is ready: never while the first
// search waits. On a first visit the engine's own fetches bypass the service worker (the page is not
// controlled yet), so caching fetches the files once more through it, plus the files the engine
// does not load (the neighbor graph; the lexical index until a lexical or hybrid search).
const OFFLINE_IDLE_MS = 5_000;
let offlineStarted = false;
let offlineTimer: ReturnType<typeof setTimeout> | undefined;
function startOfflineCaching(): void {
  clearTimeout(offlineTimer);
  if (offlineStarted) return;
  offlineStarted = true;
  cacheBundles(modelUrl, indexUrl, search.info?.startEncoder === 'webgpu' ? 'webgpu' : 'wasm').then(
    (ok) => (document.body.dataset.offline = ok ? 'ready' : 'unavailable'),
    () => (document.body.dataset.offline = 'unavailable'),
  );
}
function armOfflineTimer(): void {
  clearTimeout(offlineTimer);
  if (!offlineStarted && document.body.dataset.ready === 'true') offlineTimer = setTimeout(startOfflineCaching, OFFLINE_IDLE_MS);
}

const view = mountSearchView(document.getElementById('app')!, search, {
  title: 'hypencoder-web',
  examples: aboutExamples.length ? aboutExamples : config.examples,
  about: about ? aboutLine(about) : undefined,
  initialQuery: params.get('q') ?? undefined,
  initialMode: modeParam && SEARCH_MODES.includes(modeParam) ? modeParam : undefined,
  onChange(query, mode) {
    // The address bar holds the query and mode, so a search can be shared or bookmarked.
    const u = new URL(location.href);
    if (query.trim()) u.searchParams.set('q', query.trim());
    else u.searchParams.delete('q');
    if (mode !== 'neural') u.searchParams.set('mode', mode);
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

// "/" anywhere on the page jumps to the search box, as on most search sites.
document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement;
  if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !(t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t.isContentEditable)) {
    e.preventDefault();
    view.input.focus();
    view.input.select();
  }
});
