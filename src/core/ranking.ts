// Shared by the Node and browser engines: passages → one hit per document (its best passage),
// and the three search modes' names.
import type { DocMetadata } from './formats/index.ts';
import type { ScoredDoc } from './fusion.ts';

export const SEARCH_MODES = ['neural', 'lexical', 'hybrid'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

/** The source document a passage belongs to (`fields.passage_of` when the indexer split it). */
export function documentIdOf(meta: DocMetadata): string {
  const p = meta.fields?.passage_of;
  return typeof p === 'string' ? p : meta.id;
}

/** The first (best) passage of each document, in order, up to k documents. */
export function bestPassagePerDocument(ranked: ScoredDoc[], docs: DocMetadata[], k: number): ScoredDoc[] {
  const seen = new Set<string>();
  const out: ScoredDoc[] = [];
  for (const h of ranked) {
    const id = documentIdOf(docs[h.doc]);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(h);
    if (out.length === k) break;
  }
  return out;
}

export const SNIPPET_CHARS = 240;

export function snippetOf(text: string, chars = SNIPPET_CHARS): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > chars ? `${t.slice(0, chars).trimEnd()}…` : t;
}
