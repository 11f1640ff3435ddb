// The search view: search box, mode switch, example queries, load progress, ranked hits with the
// query's words highlighted, timings and the backend badge. One implementation, mounted by the page
// (src/ui/main.ts) into the document and by <hypencoder-search> (src/ui/element.ts) into its shadow
// root. Document text only ever enters the DOM as text nodes.
import { bindResultKeys } from './keyboard.ts';
import { queryStems } from '../core/highlight.ts';
import { boundQuery } from '../core/query.ts';
import {
  SEARCH_DEFAULTS,
  SEARCH_MODES,
  engineModes,
  type EngineInfo,
  type FilterSelection,
  type HypencoderSearch,
  type SearchMode,
  type SearchResponse,
} from '../lib/search.ts';
import { el, quotedQuery } from './dom.ts';
import { LANGUAGE_FILTER } from '../core/facets.ts';
import { facetPanel, type FacetPanel } from './facetView.ts';
import { hitElement } from './hitView.ts';
import { MODE_LABELS, PHASES, TIMING_LABELS, backendBadge, bytesOf, countText } from './viewText.ts';

export interface ViewOptions {
  /** A heading above the box (the page has one; the element does not). */
  title?: string;
  /** Example queries shown as clickable chips. */
  examples?: string[];
  /** A line under the heading naming what is searched (corpus, model); plain text. */
  about?: string;
  /** Heading level of each hit's title (2 on the page; 3 inside a host page's content). */
  hitHeadingLevel?: 2 | 3 | 4;
  k?: number;
  initialQuery?: string;
  initialMode?: SearchMode;
  /** Typo tolerance (default SEARCH_DEFAULTS.typos; the element's typos="off" turns it off). */
  typos?: boolean;
  /** What hits' relative URLs resolve against (default the page's base URL). */
  pagesBase?: string;
  /** Show each hit's rank, passage id and score (the page's ?debug=1, the element's debug attribute); off: a reader needs none of them. */
  debug?: boolean;
  /** Debounce between keystrokes and the search, ms. */
  debounceMs?: number;
  /** Called when the query or the mode changes (the page mirrors them in its URL). */
  onChange?: (query: string, mode: SearchMode) => void;
  onReady?: (info: EngineInfo) => void;
  /** Called after a list of results is shown (the page starts its offline caching after the first). */
  onResults?: (r: SearchResponse) => void;
  onError?: (e: Error) => void;
}

export interface SearchView {
  /** Sets the box's text and searches at once (no debounce). */
  setQuery(query: string): void;
  readonly input: HTMLInputElement;
  destroy(): void;
}

let nextViewId = 0;

export function mountSearchView(root: HTMLElement, search: HypencoderSearch, opts: ViewOptions = {}): SearchView {
  const id = `hs${nextViewId++}`;
  const k = opts.k ?? SEARCH_DEFAULTS.k;
  const hitHeading = `h${opts.hitHeadingLevel ?? 2}` as 'h2' | 'h3' | 'h4';
  let mode: SearchMode = opts.initialMode ?? SEARCH_DEFAULTS.mode;
  let ready = false;
  let failed = false;

  // --- structure ---
  const badge = el('span', { className: 'badge', title: 'Where the scoring runs' }, 'starting');
  badge.dataset.testid = 'backend';
  const notice = el('p', { className: 'notice', hidden: true, attrs: { role: 'note' } });

  const input = el('input', {
    type: 'search',
    id: `${id}-q`,
    className: 'box',
    placeholder: 'Search…',
    autocomplete: 'off',
    spellcheck: false,
    enterKeyHint: 'search',
    attrs: { 'aria-describedby': `${id}-help`, 'aria-controls': `${id}-results` },
    dataset: { testid: 'search-input' },
  });
  const label = el('label', { htmlFor: input.id, className: 'visually-hidden' }, 'Search the documents');
  const help = el(
    'p',
    { id: `${id}-help`, className: 'visually-hidden' },
    'Results appear as you type. Down arrow moves to the results; in the results, arrows move, Enter opens, Escape returns here. Escape in the box clears it.',
  );
  const form = el('form', { className: 'search', attrs: { role: 'search' } }, label, input);

  const modeInputs = new Map<SearchMode, HTMLInputElement>();
  const modeNote = el('span', { className: 'modes-note', id: `${id}-modes-note` });
  const modes = el(
    'fieldset',
    { className: 'modes' },
    el('legend', { className: 'visually-hidden' }, 'Ranking'),
    ...SEARCH_MODES.map((m) => {
      const radio = el('input', { type: 'radio', name: `${id}-mode`, value: m, checked: m === mode, dataset: { testid: `mode-${m}` } });
      modeInputs.set(m, radio);
      return el('label', { className: 'mode' }, radio, el('span', {}, MODE_LABELS[m]));
    }),
    modeNote,
  );

  const examples = opts.examples?.length
    ? el(
        'div',
        { className: 'examples', attrs: { role: 'group', 'aria-label': 'Example queries' } },
        el('span', { className: 'examples-label', attrs: { 'aria-hidden': 'true' } }, 'Try'),
        ...opts.examples.map((q) => el('button', { type: 'button', className: 'chip', dataset: { testid: 'example' }, onclick: () => setQuery(q) }, q)),
      )
    : null;

  const bar = el('progress', { max: 1, attrs: { 'aria-label': 'Loading the index' }, dataset: { testid: 'load-progress' } });
  const loadText = el('span', { className: 'load-text' });
  const load = el('div', { className: 'load' }, bar, loadText);
  const status = el('p', { className: 'status', attrs: { role: 'status' } }, 'Loading…');
  const results = el('ol', { className: 'results', id: `${id}-results`, attrs: { 'aria-label': 'Results' } });
  const timings = el('p', { className: 'timings' });
  // What the engine cut from a long query (characters, the model's tokens): small print, as text.
  const queryNotice = el('p', { className: 'query-notice', hidden: true, dataset: { testid: 'query-notice' } });

  const header = el('header', { className: 'bar' }, ...(opts.title ? [el('h1', {}, opts.title)] : []), badge);
  const about = opts.about ? el('p', { className: 'about', dataset: { testid: 'about' } }, opts.about) : null;
  root.classList.add('hs');
  const summary = el('div', { className: 'summary' }, status, timings, queryNotice);
  root.replaceChildren(header, ...(about ? [about] : []), notice, form, modes, ...(examples ? [examples] : []), load, summary, results, help);

  // --- filters and sorting: shown once the engine says the index has them ---
  let facets: FacetPanel | null = null;
  search.ready
    .then(() => search.facets())
    .then(
      (overview) => {
        // A multilingual site's search page starts with its own language ticked (<html lang>, as the indexer read each page's).
        const lang = /^[a-z]{2,3}(?=-|$)/i.exec(root.ownerDocument.documentElement.lang)?.[0].toLowerCase();
        const own: FilterSelection = lang && overview.filters[LANGUAGE_FILTER]?.[lang] ? { [LANGUAGE_FILTER]: [lang] } : {};
        facets = facetPanel(overview, id, () => void runQuery(), own);
        if (facets) modes.after(facets.element);
      },
      () => {}, // a load error is the status line's; a refused filters file leaves the panel out, and a filtered search says why
    );

  // --- modes ---
  function updateModes(info: EngineInfo | null): void {
    // Until the engine reports its modes, the chosen one (a shared link's ?mode=) stays chosen: only
    // the engine can say it is not available, and then the view falls back to neural.
    const available = info ? engineModes(info) : [...new Set<SearchMode>(['neural', mode])];
    for (const [m, radio] of modeInputs) {
      radio.disabled = !available.includes(m);
      radio.closest('label')!.title = radio.disabled && info ? 'Needs an index with a lexical part and an engine that searches it' : '';
    }
    if (!available.includes(mode)) {
      mode = available.includes('hybrid') ? 'hybrid' : 'neural';
      modeInputs.get(mode)!.checked = true;
      opts.onChange?.(input.value, mode); // the page's address bar stops naming a mode it cannot serve
    }
    const missing = SEARCH_MODES.filter((m) => !available.includes(m));
    modeNote.textContent = info && missing.length ? `${missing.map((m) => MODE_LABELS[m]).join(' and ')}: not available for this index` : '';
    for (const r of modeInputs.values()) r.setAttribute('aria-describedby', modeNote.id);
  }
  modes.addEventListener('change', (e) => {
    const m = (e.target as HTMLInputElement).value as SearchMode;
    if (!SEARCH_MODES.includes(m)) return;
    mode = m;
    opts.onChange?.(input.value, mode);
    void runQuery();
  });
  updateModes(null);

  // --- loading ---
  let lastPhase: string | null = null;
  const offProgress = search.on('progress', (p) => {
    // After the first (lexical) answer is possible the bar goes on with the neural half, and the status line is the results'.
    const behind = ready ? 'Semantic ranking: ' : '';
    // Bytes kept on this device from a visit before: said so, not called a download.
    const local = p.loadedBytes > 0 && (p.cachedBytes ?? 0) >= p.loadedBytes;
    if (p.totalBytes > 0) {
      bar.max = p.totalBytes;
      bar.value = p.loadedBytes;
      loadText.textContent = `${behind}${bytesOf(p.loadedBytes, p.totalBytes)}${local ? ' (on this device)' : ''}`;
    }
    if (p.phase === 'gpu') {
      bar.removeAttribute('value'); // indeterminate while the scorer is prepared
      loadText.textContent = ready ? 'Semantic ranking: preparing the scorer' : '';
    }
    const phaseText = local ? `${PHASES[p.phase].replace(/^Downloading/, 'Reading')} from this device` : PHASES[p.phase];
    if (phaseText !== lastPhase) {
      lastPhase = phaseText; // the live region hears phases, not every byte count
      if (p.phase !== 'ready' && !ready) status.textContent = `${phaseText}…`;
    }
  });

  // The calm sign of what ranks the results: keyword results while the neural half loads, then semantic.
  const semantic = el('span', { className: 'semantic', dataset: { testid: 'semantic-state' }, attrs: { 'aria-live': 'polite' } });
  modes.append(semantic);
  // Offered instead of replacing a list the person is reading or moving through.
  const upgradeButton = el(
    'button',
    { type: 'button', className: 'upgrade', hidden: true, dataset: { testid: 'upgrade-results' } },
    'Show results with semantic ranking',
  );
  upgradeButton.addEventListener('click', () => {
    upgradeButton.hidden = true;
    void runQuery();
  });
  summary.append(upgradeButton);
  /** Whether the person is reading or navigating the list: focus or the pointer in it, or the page scrolled since it was shown. */
  let scrolledSinceRender = false;
  root.ownerDocument.addEventListener('scroll', () => (scrolledSinceRender = true), { passive: true });
  const busyWithList = () => results.contains(root.ownerDocument.activeElement) || results.matches(':hover') || scrolledSinceRender;

  function showSemantic(info: EngineInfo): void {
    semantic.dataset.state = info.loaded === 'all' ? 'on' : info.neuralError ? 'failed' : 'loading';
    semantic.textContent =
      info.loaded === 'all'
        ? info.modes.includes('hybrid')
          ? 'Semantic ranking on'
          : ''
        : info.neuralError
          ? 'Keyword results only (semantic ranking could not load)'
          : 'Keyword results · semantic ranking loading…';
    semantic.title = info.neuralError ?? '';
  }

  search.on('upgrade', (info) => {
    load.hidden = true;
    showSemantic(info);
    if (info.neuralError) {
      // A refused file of the neural half (a damaged vector tile, say): said where it cannot be missed; keyword search goes on over the verified lexical part.
      notice.hidden = false;
      notice.setAttribute('role', 'alert');
      notice.dataset.testid = 'neural-refused';
      notice.textContent = `Semantic ranking could not load: ${info.neuralError}. Results are keyword-ranked.`;
    }
    if (info.loaded !== 'all') return;
    showBackend(info.backend, info);
    // The list on screen was ranked lexically for a mode that is now available: rank it again, in place,
    // unless the person is reading it; then offer the new ranking instead of moving the list.
    if (results.dataset.rankedBy === 'lexical' && mode !== 'lexical' && input.value.trim()) {
      if (busyWithList()) upgradeButton.hidden = false;
      else void runQuery();
    }
  });

  search.ready.then(
    (info) => {
      ready = true;
      load.hidden = info.loaded !== 'lexical'; // the bar goes on with the neural half's bytes
      showSemantic(info);
      showBackend(info.backend, info);
      if (info.synthetic) {
        notice.hidden = false;
        notice.textContent = `Synthetic demo: ${info.docCount.toLocaleString('en')} random document vectors and a q-net drawn from your query's hash. There is no trained model yet, so the ranking means nothing; it shows the GPU scoring path at work.`;
      }
      updateModes(info);
      input.placeholder = `Search ${countText(info)}…`;
      opts.onReady?.(info);
      if (input.value.trim()) void runQuery();
      else {
        const cache = (info as { cache?: { cachedBytes: number; networkBytes: number } }).cache;
        const fromCache = cache && cache.cachedBytes > 0 && cache.networkBytes === 0 ? ' (loaded from this device, no download)' : '';
        status.textContent = `${countText(info)} ready${fromCache}`;
      }
    },
    (e: Error) => {
      failed = true;
      badge.textContent = 'error';
      load.hidden = true;
      status.textContent = `Could not load the index: ${e.message}`;
      input.disabled = true;
      for (const r of modeInputs.values()) r.disabled = true;
      for (const c of root.querySelectorAll<HTMLButtonElement>('.chip')) c.disabled = true;
      opts.onError?.(e);
    },
  );

  function showBackend(backend: SearchResponse['backend'], info: EngineInfo | null): void {
    const shown = backendBadge(backend, info);
    badge.textContent = shown.text;
    if (shown.title) badge.title = shown.title;
  }

  // --- searching ---
  let latest = 0;
  let debounce: ReturnType<typeof setTimeout> | undefined;

  function clearResults(): void {
    results.replaceChildren();
    delete results.dataset.query;
    timings.textContent = '';
    facets?.update(undefined);
    queryNotice.hidden = true;
    queryNotice.textContent = '';
  }

  async function runQuery(): Promise<void> {
    clearTimeout(debounce);
    const q = input.value.trim();
    const mine = ++latest;
    if (!ready || failed) return; // run once loaded (ready handler) or never
    if (!q) {
      clearResults();
      status.textContent = '';
      return;
    }
    results.setAttribute('aria-busy', 'true');
    try {
      const r = await search.search(q, { k, mode, typos: opts.typos ?? SEARCH_DEFAULTS.typos, filters: facets?.selection(), sort: facets?.sort() });
      // A newer query has started (here or in the engine): drop this answer.
      if (mine === latest && !(r as { superseded?: boolean }).superseded) render(r);
    } catch (e) {
      if (mine === latest) {
        clearResults();
        status.textContent = `Search failed: ${(e as Error).message}`;
      }
    } finally {
      if (mine === latest) results.removeAttribute('aria-busy');
    }
  }

  function render(r: SearchResponse): void {
    // The words the engine searched: the query's, and the corpus words that stood in for its typos.
    const corrected = (r.corrections ?? []).flatMap((c) => c.to);
    const stems = queryStems([boundQuery(r.query).text, ...corrected].join(' '));
    const base = opts.pagesBase ?? root.ownerDocument.baseURI;
    results.replaceChildren(...r.hits.map((h) => hitElement(h, { stems, base, heading: hitHeading, debug: opts.debug ?? false })));
    if (r.backend !== search.info?.backend) showBackend(r.backend, search.info); // after a device loss the engine moves on
    facets?.update(r.facets);
    results.dataset.query = r.query; // which query the list answers (tests wait on it)
    results.dataset.mode = mode;
    results.dataset.rankedBy = r.mode ?? mode; // lexical while the neural half loads
    upgradeButton.hidden = true;
    scrolledSinceRender = false;
    const n = r.hits.length;
    status.textContent = n ? `${n} result${n === 1 ? '' : 's'} for ${quotedQuery(r.query)}` : `No results for ${quotedQuery(r.query)}`;
    const notices = [
      ...(r.notice ? [`Long query: ${r.notice}.`] : []),
      ...(r.corrections ?? []).map((c) => `No page has ${quotedQuery(c.word)}: also showing ${c.to.map((w) => quotedQuery(w)).join(', ')}.`),
    ];
    queryNotice.hidden = notices.length === 0;
    queryNotice.textContent = notices.join(' ');
    const t = r.timingsMs as Record<string, number>;
    const parts = Object.entries(t)
      // A keyword ranking runs no query encoder: its q-net time is not a measurement, so it is not shown.
      .filter(([key, v]) => key !== 'total' && typeof v === 'number' && !(key === 'qnet' && r.mode === 'lexical'))
      .map(([key, v]) => `${TIMING_LABELS[key] ?? key} ${v.toFixed(1)}`);
    timings.textContent = `${t.total.toFixed(1)} ms${parts.length ? ` (${parts.join(' · ')})` : ''} · ${r.backend === 'webgpu' ? 'WebGPU' : 'CPU'}`;
    opts.onResults?.(r);
  }

  function setQuery(q: string): void {
    input.value = q;
    opts.onChange?.(q, mode);
    input.focus();
    void runQuery();
  }

  input.addEventListener('input', () => {
    clearTimeout(debounce);
    opts.onChange?.(input.value, mode);
    debounce = setTimeout(() => void runQuery(), opts.debounceMs ?? 120);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void runQuery(); // Enter searches now, without waiting for the debounce
  });

  // --- keyboard ---
  bindResultKeys(input, results, () => {
    clearTimeout(debounce);
    latest++;
    input.value = '';
    clearResults();
    status.textContent = '';
    opts.onChange?.('', mode);
  });

  if (opts.initialQuery) input.value = opts.initialQuery;

  return {
    setQuery,
    input,
    destroy() {
      clearTimeout(debounce);
      latest++;
      offProgress();
      root.replaceChildren();
    },
  };
}
