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
}

function readConfig(): PageConfig {
  const text = document.getElementById('hypencoder-config')?.textContent;
  const cfg: Partial<PageConfig> = text ? JSON.parse(text) : {};
  return {
    model: cfg.model ?? '/generated/demo/model/',
    index: cfg.index ?? '/generated/demo/index/',
    examples: Array.isArray(cfg.examples) ? cfg.examples.filter((e): e is string => typeof e === 'string') : [],
  };
}

const params = new URLSearchParams(location.search);
const config = readConfig();
const modelUrl = params.get('model') ?? config.model;
const indexUrl = params.get('index') ?? config.index;
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

const view = mountSearchView(document.getElementById('app')!, search, {
  title: 'hypencoder-web',
  examples: config.examples,
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
  },
  onReady() {
    document.body.dataset.ready = 'true';
    cacheBundles(modelUrl, indexUrl).then(
      (ok) => (document.body.dataset.offline = ok ? 'ready' : 'unavailable'),
      () => (document.body.dataset.offline = 'unavailable'),
    );
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
