// What the search view (view.ts) says: its load phases, counts, mode names and timing labels.
import type { EngineInfo, LoadProgress, SearchMode } from '../lib/search.ts';

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
