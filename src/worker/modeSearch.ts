// Lexical and hybrid search in the browser, on top of the engine's neural search
// (searchEngine.ts, which loads the verified Lunr index and metadata); ranking follows exactly the Node engine's steps
// (src/cli/nodeEngine.ts): neural top passages from the GPU scorer, BM25 from Lunr, fusion from
// src/core/fusion.ts, then one hit per document (its best passage).
import type lunr from 'lunr';
import type { DocMetadata } from '../core/formats/index.ts';
import { FUSION_DEPTH, fuseHybrid, type ScoredDoc } from '../core/fusion.ts';
import { lexicalSearch } from '../core/lexical.ts';
import { bestPassagePerDocument, documentIdOf, type SearchMode } from '../core/ranking.ts';

export interface ModeHit {
  passage: number;
  id: string;
  docId: string;
  score: number;
}

/** The engine's neural ranking: the best `depth` passages with their q-net scores. */
export type NeuralRanking = (query: string, depth: number) => Promise<ScoredDoc[]>;

export class ModeSearch {
  constructor(
    private readonly neural: NeuralRanking,
    readonly docs: DocMetadata[],
    private readonly lexical: lunr.Index | null,
    /** The most passages one GPU top-k pass returns. */
    private readonly maxK: number,
  ) {}

  get hasLexical(): boolean {
    return this.lexical !== null;
  }

  async search(query: string, mode: SearchMode, k: number): Promise<ModeHit[]> {
    const n = this.docs.length;
    let ranked: ScoredDoc[];
    if (mode === 'lexical') {
      if (!this.lexical) throw new Error('this index has no lexical index');
      ranked = lexicalSearch(this.lexical, query);
    } else {
      // Deep enough that collapsing passages into documents still leaves k documents.
      const depth = Math.min(n, this.maxK, Math.max(FUSION_DEPTH, 4 * k));
      const neural = await this.neural(query, depth);
      if (mode === 'neural') ranked = neural;
      else {
        if (!this.lexical) throw new Error('this index has no lexical index');
        ranked = fuseHybrid(lexicalSearch(this.lexical, query), neural, n, Math.max(FUSION_DEPTH, k)).ranked;
      }
    }
    return bestPassagePerDocument(ranked, this.docs, k).map((h) => ({ passage: h.doc, id: this.docs[h.doc].id, docId: documentIdOf(this.docs[h.doc]), score: h.score }));
  }
}
