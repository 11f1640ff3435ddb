// The search vocabulary both engines speak (the browser's, src/worker, and Node's, src/cli): the
// modes, the options and their defaults, the hit, and how a hit's snippet and highlights are made.
// Written once here so that the two engines, the library and the page cannot drift apart; the
// rankings themselves are src/core/modeRanking.ts.
import type { DocMetadata } from './formats/index.ts';
import type { FilterSelection, SortOrder } from './facets.ts';
import type { ScoredDoc } from './fusion.ts';
import { highlightRanges, queryStems, type TextRange } from './highlight.ts';
import { lexicalStems } from './lexicalText.ts';
import { documentIdOf } from './ranking.ts';

export const SEARCH_MODES = ['neural', 'lexical', 'hybrid'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

export interface SearchOptions {
  /** How many hits, one per document (default SEARCH_DEFAULTS.k). */
  k?: number;
  /** Default SEARCH_DEFAULTS.mode; lexical and hybrid need an index with a lexical part. */
  mode?: SearchMode;
  /**
   * Typo tolerance (default SEARCH_DEFAULTS.typos): a query word that no document holds also
   * matches the corpus words nearest to it (src/core/typoTolerance.ts), in lexical and hybrid modes,
   * where the index has a word list.
   */
  typos?: boolean;
  /**
   * Filters (src/core/facets.ts): per key the values to keep, documents with any of them (OR within a
   * key, AND across keys); a key the index lacks is an error. Applied in every mode before the cut at k.
   */
  filters?: FilterSelection;
  /** Order the best SEARCH_DEFAULTS.sortDepth documents (or k, if more) by a sort key's value, then cut at k. */
  sort?: SortOrder | null;
}

/**
 * Every default of a search, in one place: hybrid, where the index has a lexical part (else neural:
 * the library, the page and the CLI fall back). (`eval` ranks 100 documents for recall@100, as its --help says.)
 */
export const SEARCH_DEFAULTS = {
  k: 10,
  mode: 'hybrid',
  typos: true,
  /** A hit's other sections that hold the query's words, shown under it (Pagefind's sub-results), at most. */
  subResults: 3,
  /** Characters of a snippet, after white space is collapsed. */
  snippetChars: 240,
  filters: {},
  sort: null,
  /** With a sort, the relevance ranking's best this many documents are ordered by the key (FUSION_DEPTH: the depth both signals are judged at). */
  sortDepth: 100,
} as const satisfies Required<SearchOptions> & { snippetChars: number; subResults: number; sortDepth: number };

/** The options with the defaults filled in (an option given as undefined takes its default). */
export function searchOptions(opts: SearchOptions = {}): Required<SearchOptions> {
  return {
    k: opts.k ?? SEARCH_DEFAULTS.k,
    mode: opts.mode ?? SEARCH_DEFAULTS.mode,
    typos: opts.typos ?? SEARCH_DEFAULTS.typos,
    filters: opts.filters ?? SEARCH_DEFAULTS.filters,
    sort: opts.sort ?? SEARCH_DEFAULTS.sort,
  };
}

/** One result: a document, shown by one of its passages. */
export interface SearchHit {
  /** 1 for the best hit. */
  rank: number;
  /** Position of the passage (the index entry) in the bundle. */
  passage: number;
  /** The passage's id. */
  id: string;
  /** The document the passage belongs to (the passage's own id when the indexer did not split it). */
  docId: string;
  title: string;
  url: string;
  /** The passage's text, white space collapsed, cut to SEARCH_DEFAULTS.snippetChars. */
  snippet: string;
  /** The query's words in the snippet (src/core/highlight.ts). */
  highlights: TextRange[];
  score: number;
  /** The document's other passages (sections) that hold the query's words, most of them first (absent: none). */
  sections?: SubResult[];
}

/** One more section of a hit's document: where it links, and its snippet. */
export interface SubResult {
  passage: number;
  id: string;
  title: string;
  url: string;
  snippet: string;
  highlights: TextRange[];
}

/**
 * The sections of a document, other than the one shown, that hold the most of the searched stems
 * (at least one), best first, ties in document order, one passage per link (URL); at most
 * SEARCH_DEFAULTS.subResults.
 */
export function subResults(
  passages: number[],
  shown: number,
  docs: DocMetadata[],
  stems: Set<string>,
  /** A passage's stems (the lexical ranker keeps them; default: stemmed here). */
  stemsOf: (passage: number) => Set<string> = (p) => lexicalStems(`${docs[p].title}\n${docs[p].text}`),
): SubResult[] {
  if (stems.size === 0 || passages.length < 2) return [];
  const found: { p: number; n: number }[] = [];
  for (const p of passages) {
    if (p === shown) continue;
    const have = stemsOf(p);
    let n = 0;
    for (const s of stems) if (have.has(s)) n++;
    if (n > 0) found.push({ p, n });
  }
  found.sort((a, b) => b.n - a.n || a.p - b.p);
  // A long section is cut into several passages with one link: a section is shown once, and never the hit's own.
  const urls = new Set([docs[shown].url]);
  const distinct = found.filter(({ p }) => !urls.has(docs[p].url) && urls.add(docs[p].url));
  return distinct.slice(0, SEARCH_DEFAULTS.subResults).map(({ p }) => {
    const m = docs[p];
    const snippet = snippetOf(m.text);
    return { passage: p, id: m.id, title: m.title, url: m.url, snippet, highlights: highlightRanges(snippet, stems) };
  });
}

/** The text as a snippet: white space runs (newlines too) as one space, cut at `chars` with an ellipsis. */
export function snippetOf(text: string, chars: number = SEARCH_DEFAULTS.snippetChars): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > chars ? `${t.slice(0, chars).trimEnd()}…` : t;
}

/** Ranked passages (best first) as hits, with snippets and the words of `query` (or these stems) highlighted in them. */
export function searchHits(ranked: ScoredDoc[], docs: DocMetadata[], query: string | Set<string>): SearchHit[] {
  const stems = typeof query === 'string' ? queryStems(query) : query;
  return ranked.map((h, i) => {
    const m = docs[h.doc];
    const snippet = snippetOf(m.text);
    return {
      rank: i + 1,
      passage: h.doc,
      id: m.id,
      docId: documentIdOf(m),
      title: m.title,
      url: m.url,
      snippet,
      highlights: highlightRanges(snippet, stems),
      score: h.score,
    };
  });
}
