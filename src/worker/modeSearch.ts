// The browser engine's ranking (searchEngine.ts loads the verified bundle): every mode goes through
// the Node engine's one ranking path (src/core/modeRanking.ts): neural top passages from the GPU
// scorer, BM25 from the lexical index (Lunr's, or its term chunks fetched per query), fusion from src/core/fusion.ts, then one hit per document (its best passage).
import type { DocMetadata } from '../core/formats/index.ts';
import type { ScoredDoc } from '../core/fusion.ts';
import { LexicalRanker, type LexicalScheme } from '../core/lexical.ts';
import type { OpenedLexical } from '../core/lexicalBundle.ts';
import { neuralPassageDepth, rankForMode } from '../core/modeRanking.ts';
import { documentGroups, type DocumentGroups } from '../core/ranking.ts';
import { retryingOnce } from '../core/retryingOnce.ts';
import type { SearchHit, SearchMode } from '../core/search.ts';

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
  private readonly groups: DocumentGroups;

  constructor(
    private readonly neural: NeuralRanking,
    readonly docs: DocMetadata[],
    private readonly lexical: LexicalSource | null,
    /** The most passages one GPU top-k pass returns. */
    private readonly maxK: number,
  ) {
    const src = lexical;
    this.groups = documentGroups(docs);
    this.lexicalReady = retryingOnce(async () => {
      if (!src) throw new Error('this index has no lexical index');
      const index = typeof src.index === 'function' ? await src.index() : src.index;
      return new LexicalRanker(index, src.scheme, docs, this.groups, src.file);
    });
  }

  get hasLexical(): boolean {
    return this.lexical !== null;
  }

  /**
   * The Node engine's ranking (src/core/modeRanking.ts), with the q-net's passages from the GPU's
   * top-k (`neural`, default the constructor's); null when the neural ranking was given up.
   */
  async search(query: string, mode: SearchMode, k: number, neural: NeuralRanking = this.neural): Promise<SearchHit[] | null> {
    const lexical = mode === 'neural' ? undefined : await this.lexicalReady();
    await lexical?.prepare(query);
    let passages: ScoredDoc[] | undefined;
    if (mode !== 'lexical') {
      const ranked = await neural(query, Math.min(this.docs.length, this.maxK, neuralPassageDepth(mode, k, this.groups)));
      if (!ranked) return null;
      passages = ranked;
    }
    return rankForMode({ mode, query, k, docs: this.docs, groups: this.groups, neural: passages, lexical }).hits;
  }
}
