// <hypencoder-search model="…" index="…">: the search view in a shadow root, for any static page.
// Attributes: model, index (bundle folder URLs; several index URLs, separated by spaces, or a shard
// list's shards.json URL are searched as one collection, docs/FORMATS.md; without both, the folders `hypencoder-web site` writes
// next to the library's own script: model/ and index/, with hits' relative URLs resolved against the
// folder above it, the site's root), pages-base (what relative hit URLs resolve against; default the
// page's base URL, or that site root), typos ("off": no typo tolerance), debug (show each hit's
// rank, passage id and score), examples (a JSON array of strings),
// k (hits per query, default 10), backend ("webgpu" | "cpu"), mode ("hybrid", the default, "lexical"
// or "neural"), preload ("lexical", the default: keyword results first, the neural half behind; or
// "all"). The element sets data-ready="true" or "error" on itself when loading ends, and re-dispatches
// 'hypencoder-ready' / 'hypencoder-error'.
import viewCss from './style.css?inline';
import { SEARCH_DEFAULTS, SEARCH_MODES, approximateSetting, createSearch, type HypencoderSearch, type SearchMode } from '../lib/search.ts';
import { mountSearchView, type SearchView } from './view.ts';

const hostCss = ':host { display: block; } :host([hidden]) { display: none; }';

function parseExamples(attr: string | null): string[] {
  if (!attr) return [];
  try {
    const v = JSON.parse(attr);
    return Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : [];
  } catch {
    return [];
  }
}

// On a server without DOM globals the class must still be definable (it is only registered in a browser).
const Base = (typeof HTMLElement === 'undefined' ? class {} : HTMLElement) as typeof HTMLElement;

export class HypencoderSearchElement extends Base {
  static readonly observedAttributes = ['model', 'index', 'pages-base', 'debug', 'examples', 'k', 'backend', 'mode', 'preload', 'typos', 'approximate'];
  private search: HypencoderSearch | null = null;
  private view: SearchView | null = null;
  private container: HTMLDivElement;
  private scheduled = false;

  constructor() {
    super();
    const shadow = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = hostCss + viewCss;
    this.container = document.createElement('div');
    shadow.append(style, this.container);
  }

  /** The engine behind the element (null until it is connected with model and index set). */
  get engine(): HypencoderSearch | null {
    return this.search;
  }

  connectedCallback(): void {
    this.schedule();
  }

  disconnectedCallback(): void {
    this.teardown();
  }

  attributeChangedCallback(_name: string, oldValue: string | null, newValue: string | null): void {
    if (oldValue !== newValue && this.isConnected) this.schedule();
  }

  /** Attributes often change together: start once per task with all of them set. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (this.isConnected) this.start();
    });
  }

  private teardown(): void {
    this.view?.destroy();
    this.search?.dispose();
    this.view = null;
    this.search = null;
  }

  private start(): void {
    this.teardown();
    let model = this.getAttribute('model');
    let index = this.getAttribute('index');
    let pagesBase = this.getAttribute('pages-base');
    if (!model !== !index) {
      this.container.replaceChildren(
        Object.assign(document.createElement('p'), { textContent: 'hypencoder-search: set both the model and index attributes, or neither.', role: 'alert' }),
      );
      return;
    }
    if (!model || !index) {
      // `hypencoder-web site`'s layout: <site>/hypencoder/{hypencoder-web.js, model/, index/}, pages' URLs relative to <site>/.
      model = new URL('model/', import.meta.url).href;
      index = new URL('index/', import.meta.url).href;
      pagesBase ??= new URL('../', import.meta.url).href;
    }
    const backend = this.getAttribute('backend');
    const preload = this.getAttribute('preload');
    const mode = this.getAttribute('mode') as SearchMode | null;
    this.search = createSearch({
      model,
      // Several index URLs, space-separated, are searched as one collection.
      index: index.trim().split(/\s+/),
      scorer: backend === 'cpu' || backend === 'webgpu' ? backend : undefined,
      preload: preload === 'all' || preload === 'lexical' ? preload : undefined,
      approximate: approximateSetting(this.getAttribute('approximate')),
    });
    this.view = mountSearchView(this.container, this.search, {
      initialMode: mode && SEARCH_MODES.includes(mode) ? mode : undefined,
      typos: this.getAttribute('typos') !== 'off',
      debug: this.hasAttribute('debug'),
      ...(pagesBase ? { pagesBase: new URL(pagesBase, document.baseURI).href } : {}),
      examples: parseExamples(this.getAttribute('examples')),
      hitHeadingLevel: 3,
      k: Math.max(1, Math.min(100, Number(this.getAttribute('k')) || SEARCH_DEFAULTS.k)),
      onReady: (info) => {
        this.dataset.ready = 'true';
        this.dispatchEvent(new CustomEvent('hypencoder-ready', { detail: info }));
      },
      onError: (e) => {
        this.dataset.ready = 'error';
        this.dispatchEvent(new CustomEvent('hypencoder-error', { detail: e }));
      },
    });
  }
}

export function defineSearchElement(name = 'hypencoder-search'): void {
  if (typeof customElements !== 'undefined' && !customElements.get(name)) customElements.define(name, class extends HypencoderSearchElement {});
}
