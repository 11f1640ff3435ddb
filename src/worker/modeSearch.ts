// Lexical and hybrid search in the browser, on top of the engine's neural search
// (searchEngine.ts, which loads the verified Lunr index and metadata); ranking follows exactly the Node engine's steps
// (src/cli/nodeEngine.ts): neural top passages from the GPU scorer, BM25 from Lunr, fusion from
// src/core/fusion.ts, then one hit per document (its best passage).
import type lunr from 'lunr';
import type { DocMetadata } from '../core/formats/index.ts';
import type { ScoredDoc } from '../core/fusion.ts';
import { LexicalRanker, type LexicalScheme } from '../core/lexical.ts';
import { neuralPassageDepth, rankForMode } from '../core/modeRanking.ts';
import { documentGroups, documentIdOf, type DocumentGroups, type SearchMode } from '../core/ranking.ts';
import { retryingOnce } from '../core/retryingOnce.ts';

export interface ModeHit {
  passage: number;
  id: string;
  docId: string;
  score: number;
}

/** The engine's neural ranking: the best `depth` passages with their q-net scores. */
export type NeuralRanking = (query: string, depth: number) => Promise<ScoredDoc[]>;

/** The lexical index (its scheme, and the index or how to get it the first time it is needed: fetched, verified, parsed). */
export interface LexicalSource {
  scheme: LexicalScheme;
  index: lunr.Index | (() => Promise<lunr.Index>);
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

  /** The Node engine's ranking (src/core/modeRanking.ts), with the q-net's passages from the GPU's top-k. */
  async search(query: string, mode: SearchMode, k: number): Promise<ModeHit[]> {
    const lexical = mode === 'neural' ? undefined : await this.lexicalReady();
    const depth = Math.min(this.docs.length, this.maxK, neuralPassageDepth(k));
    const neural = mode === 'lexical' ? undefined : await this.neural(query, depth);
    const { hits } = rankForMode({ mode, query, k, groups: this.groups, neural, lexical });
    return hits.map((h) => ({ passage: h.doc, id: this.docs[h.doc].id, docId: documentIdOf(this.docs[h.doc]), score: h.score }));
  }
}
