// The search vocabulary both engines speak (the browser's, src/worker, and Node's, src/cli): the
// modes, the options and their defaults, the hit, and how a hit's snippet and highlights are made.
// Written once here so that the two engines, the library and the page cannot drift apart; the
// rankings themselves are src/core/modeRanking.ts.
import type { DocMetadata } from './formats/index.ts';
import type { ScoredDoc } from './fusion.ts';
import { highlightRanges, queryStems, type TextRange } from './highlight.ts';
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
}

/**
 * Every default of a search, in one place: hybrid, where the index has a lexical part (else neural:
 * the library, the page and the CLI fall back). (`eval` ranks 100 documents for recall@100, as its --help says.)
 */
export const SEARCH_DEFAULTS = {
  k: 10,
  mode: 'hybrid',
  typos: true,
  /** Characters of a snippet, after white space is collapsed. */
  snippetChars: 240,
} as const satisfies Required<SearchOptions> & { snippetChars: number };

/** The options with the defaults filled in (an option given as undefined takes its default). */
export function searchOptions(opts: SearchOptions = {}): Required<SearchOptions> {
  return { k: opts.k ?? SEARCH_DEFAULTS.k, mode: opts.mode ?? SEARCH_DEFAULTS.mode, typos: opts.typos ?? SEARCH_DEFAULTS.typos };
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
