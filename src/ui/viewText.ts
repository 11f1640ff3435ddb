// What the search view (view.ts) says: its load phases, counts, mode names and timing labels.
import type { EngineInfo, LoadProgress, SearchMode, SearchResponse } from '../lib/search.ts';

export const PHASES: Record<LoadProgress['phase'], string> = {
  model: 'Downloading the model',
  manifest: 'Reading the index manifest',
  lexical: 'Reading the word index',
  vectors: 'Downloading document vectors',
  metadata: 'Downloading document text',
  runtime: 'Downloading the query runtime',
  gpu: 'Preparing the scorer',
  ready: 'Ready',
};

/** "1,169 pages (17,242 sections)" where the index knows its documents, else its passages. */
export function countText(info: EngineInfo): string {
  const n = (x: number) => x.toLocaleString('en');
  if (info.pages === undefined) return `${n(info.docCount)} documents`;
  return info.pages === info.docCount ? `${n(info.pages)} pages` : `${n(info.pages)} pages (${n(info.docCount)} sections)`;
}

export const MODE_LABELS: Record<SearchMode, string> = { neural: 'Neural', lexical: 'Lexical', hybrid: 'Hybrid' };

export const TIMING_LABELS: Record<string, string> = {
  tokenize: 'tokenize',
  encode: 'encode',
  // What SearchResponse.timingsMs measures: the query encoder's run, and all the ranking after it.
  qnet: 'query encoder',
  score: 'ranking',
  topk: 'top-k',
  lexical: 'lexical',
  fusion: 'fusion',
};

/** "12 of 40 kB", "1.2 of 10.9 MB": in the unit of the total, so a small file does not read "0.0 of 0.0 MB". */
export function bytesOf(loaded: number, total: number): string {
  if (total < 1e6) return `${Math.round(loaded / 1e3)} of ${Math.max(1, Math.round(total / 1e3))} kB`;
  const mb = (b: number) => (b / 1e6).toFixed(total < 1e7 ? 1 : 0);
  return `${mb(loaded)} of ${mb(total)} MB`;
}

/** The backend badge: where the scoring runs (its text), and the scorer and query encoder (its title; none while only keywords are in). */
export function backendBadge(backend: SearchResponse['backend'], info: EngineInfo | null): { text: string; title?: string } {
  const recovered = (info as { recoveredFrom?: string } | null)?.recoveredFrom;
  if (info?.loaded === 'lexical') return { text: 'keyword', title: 'Keyword (BM25) search; the neural half is loading' };
  const text = backend === 'webgpu' ? `WebGPU · ${info?.adapter ?? ''}` : recovered ? 'CPU (GPU was lost)' : 'CPU';
  if (!info) return { text };
  return {
    text,
    title: [
      info.backend === 'webgpu' ? `Scoring on WebGPU (${info.adapter})` : `Scoring on the CPU (${info.adapter})`,
      info.encoder === 'synthetic' ? 'no query encoder (synthetic model)' : `query encoder: ${info.encoder === 'webgpu' ? 'WebGPU' : 'WASM'}`,
    ].join('; '),
  };
}
