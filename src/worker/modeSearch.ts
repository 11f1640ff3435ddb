// Lexical and hybrid search in the browser, on top of the engine's neural search
// (searchEngine.ts, which loads the verified Lunr index and metadata); ranking follows exactly the Node engine's steps
// (src/cli/nodeEngine.ts): neural top passages from the GPU scorer, BM25 from Lunr, fusion from
// src/core/fusion.ts, then one hit per document (its best passage).
import type lunr from 'lunr';
import type { DocMetadata } from '../core/formats/index.ts';
import { FUSION_DEPTH, fuseHybrid, type ScoredDoc } from '../core/fusion.ts';
import { lexicalSearch } from '../core/lexical.ts';
import { bestPassagePerDocument, documentIdOf, type SearchMode } from '../core/ranking.ts';
import { retryingOnce } from '../core/retryingOnce.ts';

export interface ModeHit {
  passage: number;
  id: string;
  docId: string;
  score: number;
}

/** The engine's neural ranking: the best `depth` passages with their q-net scores. */
export type NeuralRanking = (query: string, depth: number) => Promise<ScoredDoc[]>;

/** The lexical index, or how to get it the first time it is needed (fetched, verified, parsed). */
export type LexicalSource = lunr.Index | (() => Promise<lunr.Index>);

export class ModeSearch {
  /** The lexical index, made once (a failure is not kept: the next search tries again). */
  private readonly lexicalReady: () => Promise<lunr.Index>;

  constructor(
    private readonly neural: NeuralRanking,
    readonly docs: DocMetadata[],
    private readonly lexical: LexicalSource | null,
    /** The most passages one GPU top-k pass returns. */
    private readonly maxK: number,
  ) {
    const src = lexical;
    this.lexicalReady = retryingOnce(async () => {
      if (!src) throw new Error('this index has no lexical index');
      return typeof src === 'function' ? src() : src;
    });
  }

  get hasLexical(): boolean {
    return this.lexical !== null;
  }

  async search(query: string, mode: SearchMode, k: number): Promise<ModeHit[]> {
    const n = this.docs.length;
    let ranked: ScoredDoc[];
    if (mode === 'lexical') {
      ranked = lexicalSearch(await this.lexicalReady(), query);
    } else {
      // Deep enough that collapsing passages into documents still leaves k documents.
      const depth = Math.min(n, this.maxK, Math.max(FUSION_DEPTH, 4 * k));
      const neural = await this.neural(query, depth);
      if (mode === 'neural') ranked = neural;
      else ranked = fuseHybrid(lexicalSearch(await this.lexicalReady(), query), neural, n, Math.max(FUSION_DEPTH, k)).ranked;
    }
    return bestPassagePerDocument(ranked, this.docs, k).map((h) => ({ passage: h.doc, id: this.docs[h.doc].id, docId: documentIdOf(this.docs[h.doc]), score: h.score }));
  }
}
