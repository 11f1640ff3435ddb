// Lexical and hybrid search in the browser, on top of the engine's neural search
// (searchEngine.ts): the bundle's Lunr index and metadata are fetched and verified here (length
// and SHA-256 against manifest.json), and ranking follows exactly the Node engine's steps
// (src/cli/nodeEngine.ts): neural top passages from the GPU scorer, BM25 from Lunr, fusion from
// src/core/fusion.ts, then one hit per document (its best passage).
import type lunr from 'lunr';
import { MANIFEST_FILE_NAME, parseIndexManifest, parseMetadataShard, verifyFile, type DocMetadata, type FileRef } from '../core/formats/index.ts';
import { FUSION_DEPTH, fuseHybrid, type ScoredDoc } from '../core/fusion.ts';
import { LEXICAL_SCHEME, lexicalSearch, loadLexicalIndex } from '../core/lexical.ts';
import { bestPassagePerDocument, documentIdOf, type SearchMode } from '../core/ranking.ts';
import type { SearchEngine } from './searchEngine.ts';

export interface ModeHit {
  passage: number;
  id: string;
  docId: string;
  score: number;
}

async function fetchVerified(base: URL, ref: FileRef): Promise<Uint8Array> {
  const res = await fetch(new URL(ref.path, base));
  if (!res.ok) throw new Error(`${ref.path}: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  await verifyFile(ref, bytes);
  return bytes;
}

export class ModeSearch {
  private constructor(
    private readonly engine: SearchEngine,
    readonly docs: DocMetadata[],
    private readonly lexical: lunr.Index | null,
    /** The most passages one GPU top-k pass returns. */
    private readonly maxK: number,
  ) {}

  /** `engine` must already have loaded the same index (`indexUrl`). */
  static async open(engine: SearchEngine, indexUrl: string, maxK: number): Promise<ModeSearch> {
    const base = new URL(indexUrl.endsWith('/') ? indexUrl : `${indexUrl}/`, self.location.href);
    const res = await fetch(new URL(MANIFEST_FILE_NAME, base));
    const manifest = parseIndexManifest(new Uint8Array(await res.arrayBuffer()));
    const docs: DocMetadata[] = [];
    for (const e of manifest.metadataShards) docs.push(...parseMetadataShard(e, await fetchVerified(base, e)));
    let lexical: lunr.Index | null = null;
    if (manifest.lexical?.scheme === LEXICAL_SCHEME) {
      const e = manifest.files.find((f) => f.kind === 'lexical')!;
      lexical = loadLexicalIndex(await fetchVerified(base, e), e.path);
    }
    return new ModeSearch(engine, docs, lexical, maxK);
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
      const r = await this.engine.search(query, depth);
      const neural = r.hits.map((h) => ({ doc: h.doc, score: h.score }));
      if (mode === 'neural') ranked = neural;
      else {
        if (!this.lexical) throw new Error('this index has no lexical index');
        ranked = fuseHybrid(lexicalSearch(this.lexical, query), neural, n, Math.max(FUSION_DEPTH, k)).ranked;
      }
    }
    return bestPassagePerDocument(ranked, this.docs, k).map((h) => ({ passage: h.doc, id: this.docs[h.doc].id, docId: documentIdOf(this.docs[h.doc]), score: h.score }));
  }
}
