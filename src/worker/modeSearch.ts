// The browser engine's ranking (searchEngine.ts loads the verified bundle): every mode goes through
// the Node engine's one ranking path (src/core/modeRanking.ts): neural top passages from the GPU
// scorer, BM25 from the lexical index (Lunr's, or its term chunks fetched per query), fusion from src/core/fusion.ts, then one hit per document (its best passage).
import type { DocMetadata } from '../core/formats/index.ts';
import type { ScoredDoc } from '../core/fusion.ts';
import { LexicalRanker, type LexicalScheme } from '../core/lexical.ts';
import type { OpenedLexical } from '../core/lexicalBundle.ts';
import { neuralPassageDepth, rankDocuments, showRanking, type ModeRanking } from '../core/modeRanking.ts';
import { DocumentTexts } from './documentTexts.ts';
import { retryingOnce } from '../core/retryingOnce.ts';
import { SEARCH_DEFAULTS, type SearchMode } from '../core/search.ts';

/** The engine's neural ranking: the best `depth` passages with their q-net scores; null when the search was given up (a newer one started). */
export type NeuralRanking = (query: string, depth: number) => Promise<ScoredDoc[] | null>;

/** The lexical index (its scheme, and the index or how to get it the first time it is needed: fetched, verified, parsed; src/core/lexicalBundle.ts). */
export interface LexicalSource {
  scheme: LexicalScheme;
  index: OpenedLexical['index'] | (() => Promise<OpenedLexical['index']>);
  /** The file, for errors. */
  file?: string;
}

export class ModeSearch {
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
  ) {
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
    { neural = this.neural, typos = SEARCH_DEFAULTS.typos }: { neural?: NeuralRanking | null; typos?: boolean } = {},
  ): Promise<Pick<ModeRanking, 'hits' | 'corrections'> | null> {
    const { docs, groups } = this.texts;
    const lexical = mode === 'neural' ? undefined : await this.lexicalReady();
    const lexicalQuery = await lexical?.prepare(query, { typos });
    // A quoted phrase is checked in BM25's best documents' text: fetched first.
    if (lexical && lexicalQuery) await this.texts.ensure(lexical.phraseCandidates(lexicalQuery));
    let passages: ScoredDoc[] | undefined;
    if (mode !== 'lexical') {
      if (!neural) throw new Error(`search: mode ${mode} needs the neural half, which has not loaded yet`);
      const ranked = await neural(query, Math.min(docs.length, this.maxK, neuralPassageDepth(mode, k, groups)));
      if (!ranked) return null;
      passages = ranked;
    }
    const ranking = rankDocuments({ mode, query, k, groups, neural: passages, lexical, lexicalQuery });
    // Only the documents shown need their text: each one's fragment, fetched once.
    await this.texts.ensure(ranking.ranked.map((h) => h.document));
    const { hits, corrections } = showRanking(ranking, docs, query, groups);
    return { hits, ...(corrections ? { corrections } : {}) };
  }
}
