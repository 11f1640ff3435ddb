// The browser engine's ranking (searchEngine.ts loads the verified bundle): every mode goes through
// the Node engine's one ranking path (src/core/modeRanking.ts): neural top passages from the GPU
// scorer, BM25 from the lexical index (Lunr's, or its term chunks fetched per query), fusion from src/core/fusion.ts, then one hit per document (its best passage).
import type { DocMetadata } from '../core/formats/index.ts';
import type { ScoredDoc } from '../core/fusion.ts';
import { LexicalRanker, type LexicalScheme } from '../core/lexical.ts';
import type { OpenedLexical } from '../core/lexicalBundle.ts';
import { neuralPassageDepth, rankDocuments, showRanking, type ModeRanking, type Refinement } from '../core/modeRanking.ts';
import { allowedDocuments, passageMask, type AllowedDocuments, type FilterSelection, type SortOrder } from '../core/facets.ts';
import type { DocumentFilters, DocumentSortKeys } from '../core/formats/facets.ts';
import { DocumentTexts } from './documentTexts.ts';
import { retryingOnce } from '../core/retryingOnce.ts';
import { SEARCH_DEFAULTS, type SearchMode, type SearchOptions } from '../core/search.ts';

/**
 * The engine's neural ranking: the best `depth` passages with their q-net scores, among those whose
 * bit is set in `mask` (facets.ts passageMask; none: all); null when the search was given up (a newer one started).
 */
export type NeuralRanking = (query: string, depth: number, mask?: Uint32Array) => Promise<ScoredDoc[] | null>;

/** The index's filters and sort keys (each null where it has none), read the first time a search or the page needs them. */
export type FacetFiles = () => Promise<{ filters: DocumentFilters | null; sort: DocumentSortKeys | null }>;

/** The lexical index (its scheme, and the index or how to get it the first time it is needed: fetched, verified, parsed; src/core/lexicalBundle.ts). */
export interface LexicalSource {
  scheme: LexicalScheme;
  index: OpenedLexical['index'] | (() => Promise<OpenedLexical['index']>);
  /** The file, for errors. */
  file?: string;
}

export class ModeSearch {
  readonly facetFiles: FacetFiles;
  /** The last selection's documents and passage mask: a page re-asks with the same filters as the user types. */
  private lastSelection: { key: string; allowed: AllowedDocuments | null; mask?: Uint32Array } | null = null;
  /** The lexical ranker, made once (a failure is not kept: the next search tries again). */
  private readonly lexicalReady: () => Promise<LexicalRanker>;
  readonly texts: DocumentTexts;

  constructor(
    /** Null until the neural half has loaded (setNeural): lexical search works before it. */
    private neural: NeuralRanking | null,
    /** Every record, or the documents' records fetched as hits show them. */
    texts: DocumentTexts | DocMetadata[],
    private readonly lexical: LexicalSource | null,
    /** The most passages one GPU top-k pass returns. */
    private maxK: number,
    facetFiles: FacetFiles = async () => ({ filters: null, sort: null }),
  ) {
    this.facetFiles = retryingOnce(facetFiles);
    const src = lexical;
    this.texts = Array.isArray(texts) ? DocumentTexts.whole(texts) : texts;
    const { docs, groups } = this.texts;
    this.lexicalReady = retryingOnce(async () => {
      if (!src) throw new Error('this index has no lexical index');
      const index = typeof src.index === 'function' ? await src.index() : src.index;
      return new LexicalRanker(index, src.scheme, docs, groups, src.file);
    });
  }

  /** The neural half, once loaded (and again after a device loss moves it to other backends). */
  setNeural(neural: NeuralRanking, maxK: number): void {
    this.neural = neural;
    this.maxK = maxK;
  }

  get hasNeural(): boolean {
    return this.neural !== null;
  }

  /** Opens the lexical index now (a chunked one: its dictionary), so the first query waits only for its chunks. */
  async prepareLexical(): Promise<void> {
    await this.lexicalReady();
  }

  get hasLexical(): boolean {
    return this.lexical !== null;
  }

  /**
   * The Node engine's ranking (src/core/modeRanking.ts), with the q-net's passages from the GPU's
   * top-k (`neural`, default the constructor's); null when the neural ranking was given up.
   */
  async search(
    query: string,
    mode: SearchMode,
    k: number,
    {
      neural = this.neural,
      typos = SEARCH_DEFAULTS.typos,
      filters = SEARCH_DEFAULTS.filters,
      sort = SEARCH_DEFAULTS.sort,
    }: { neural?: NeuralRanking | null } & Pick<SearchOptions, 'typos' | 'filters' | 'sort'> = {},
  ): Promise<Pick<ModeRanking, 'hits' | 'corrections' | 'facets'> | null> {
    const { docs, groups } = this.texts;
    const { refine, mask } = await this.refinement(filters, sort);
    // Neural mode counts facets over BM25's matches too, where the index has a lexical part.
    const lexical = mode === 'neural' ? (refine?.facets && this.lexical ? await this.lexicalReady() : undefined) : await this.lexicalReady();
    const lexicalQuery = await lexical?.prepare(query, { typos });
    // A quoted phrase is checked in BM25's best documents' text: fetched first.
    if (lexical && lexicalQuery) await this.texts.ensure(lexical.phraseCandidates(lexicalQuery));
    let passages: ScoredDoc[] | undefined;
    if (mode !== 'lexical') {
      if (!neural) throw new Error(`search: mode ${mode} needs the neural half, which has not loaded yet`);
      const kept = refine?.allowed ? refine.allowed.count : groups.passages.length;
      const ranked = kept === 0 ? [] : await neural(query, Math.min(docs.length, this.maxK, neuralPassageDepth(mode, k, groups, refine)), mask);
      if (!ranked) return null;
      passages = ranked;
    }
    const ranking = rankDocuments({ mode, query, k, groups, neural: passages, lexical, lexicalQuery, refine });
    // Only the documents shown need their text: each one's fragment, fetched once.
    await this.texts.ensure(ranking.ranked.map((h) => h.document));
    const { hits, corrections, facets } = showRanking(ranking, docs, query, groups);
    return { hits, ...(corrections ? { corrections } : {}), ...(facets ? { facets } : {}) };
  }

  /** The search's filters, facets and sort (modeRanking.ts Refinement), and the passage mask the scorers take; none for an index without filters when none is asked. */
  private async refinement(filters: FilterSelection, sort: SortOrder | null): Promise<{ refine?: Refinement; mask?: Uint32Array }> {
    const selected = Object.values(filters).some((v) => v.length > 0);
    const files = selected || sort ? await this.facetFiles() : await this.facetFiles().catch(() => ({ filters: null, sort: null }));
    if (!files.filters && !selected && !sort) return {};
    const { groups } = this.texts;
    const key = JSON.stringify(Object.entries(filters).sort());
    if (this.lastSelection?.key !== key) {
      const allowed = allowedDocuments(files.filters, filters, groups.passages.length);
      this.lastSelection = { key, allowed, ...(allowed ? { mask: passageMask(allowed.allowed, groups) } : {}) };
    }
    const { allowed, mask } = this.lastSelection;
    const refine: Refinement = {
      allowed,
      ...(files.filters ? { facets: { filters: files.filters, selection: filters } } : {}),
      ...(sort ? { sort: { keys: files.sort, order: sort } } : {}),
    };
    return { refine, ...(mask ? { mask } : {}) };
  }
}
