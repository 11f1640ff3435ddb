// The search page. Every piece of document text is set with textContent, never as HTML.
import './style.css';
import { Comlink, startEngine, type EngineInfo, type LoadProgress, type SearchResponse } from '../worker/client.ts';

const params = new URLSearchParams(location.search);
const modelUrl = params.get('model') ?? '/generated/demo/model/';
const indexUrl = params.get('index') ?? '/generated/demo/index/';
const scorerParam = params.get('backend');
const encoderParam = params.get('encoder');
const engineOptions = {
  scorer: scorerParam === 'cpu' || scorerParam === 'webgpu' ? scorerParam : undefined,
  encoder: encoderParam === 'wasm' || encoderParam === 'webgpu' ? encoderParam : undefined,
} as const;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

const app = document.getElementById('app')!;
const notice = el('p', { className: 'notice', hidden: true });
notice.setAttribute('role', 'note');
const input = el('input', { type: 'search', id: 'q', placeholder: 'Search…', autocomplete: 'off', disabled: true });
input.dataset.testid = 'search-input';
const label = el('label', { htmlFor: 'q', className: 'visually-hidden' }, 'Search the documents');
const backend = el('span', { className: 'badge' }, 'starting');
backend.dataset.testid = 'backend';
const progress = el('progress', { max: 1, value: 0 });
progress.setAttribute('aria-label', 'Loading the index');
const status = el('p', { className: 'status' }, 'Loading…');
status.setAttribute('role', 'status');
const results = el('ol', { className: 'results' });
results.setAttribute('aria-label', 'Results');
const timings = el('p', { className: 'timings' });
app.append(
  el('header', {}, el('h1', {}, 'hypencoder-web'), backend),
  notice,
  el('form', { role: 'search', onsubmit: (e: Event) => e.preventDefault() }, label, input),
  progress,
  status,
  results,
  timings,
);

const engine = startEngine();
let latest = 0;

function showProgress(p: LoadProgress): void {
  if (p.totalBytes > 0) {
    progress.max = p.totalBytes;
    progress.value = p.loadedBytes;
  }
  status.textContent = `Loading ${p.phase}${p.totalBytes ? ` (${(p.loadedBytes / 1e6).toFixed(1)} of ${(p.totalBytes / 1e6).toFixed(1)} MB)` : ''}…`;
}

function render(r: SearchResponse): void {
  results.replaceChildren(
    ...r.hits.map((h) => {
      const title = h.url ? el('a', { href: h.url }, h.title || h.id) : el('span', { className: 'title' }, h.title || h.id);
      const li = el('li', {}, el('h2', {}, title), el('p', { className: 'snippet' }, h.snippet), el('p', { className: 'meta' }, `${h.id} · score ${h.score.toFixed(4)}`));
      li.dataset.testid = 'hit';
      li.dataset.docId = h.id;
      return li;
    }),
  );
  results.dataset.query = r.query; // which query the list answers (tests wait on it)
  status.textContent = r.hits.length ? `${r.hits.length} results` : 'No results';
  const t = r.timingsMs;
  timings.textContent = `q-net ${t.qnet.toFixed(1)} ms · scoring + top-k ${t.score.toFixed(1)} ms · total ${t.total.toFixed(1)} ms`;
}

async function runQuery(): Promise<void> {
  const q = input.value.trim();
  const mine = ++latest;
  if (!q) {
    results.replaceChildren();
    status.textContent = '';
    return;
  }
  try {
    const r = await engine.search(q, 10);
    if (mine === latest) render(r); // a newer query has started: drop this answer
  } catch (e) {
    if (mine === latest) status.textContent = `Search failed: ${(e as Error).message}`;
  }
}

let debounce: ReturnType<typeof setTimeout> | undefined;
input.addEventListener('input', () => {
  clearTimeout(debounce);
  debounce = setTimeout(runQuery, 150);
});

engine
  .load(modelUrl, indexUrl, Comlink.proxy(showProgress), engineOptions)
  .then((info: EngineInfo) => {
    backend.textContent = info.backend === 'webgpu' ? `WebGPU · ${info.adapter}` : 'CPU';
    progress.hidden = true;
    if (info.synthetic) {
      notice.hidden = false;
      notice.textContent = `Synthetic demo: ${info.docCount.toLocaleString()} random document vectors and a q-net drawn from your query's hash. There is no trained model yet, so the ranking means nothing; it shows the GPU scoring path at work.`;
    }
    status.textContent = `${info.docCount.toLocaleString()} documents ready`;
    input.disabled = false;
    input.focus();
    document.body.dataset.ready = 'true';
  })
  .catch((e: Error) => {
    backend.textContent = 'error';
    status.textContent = `Could not load the index: ${e.message}`;
    document.body.dataset.ready = 'error';
  });
