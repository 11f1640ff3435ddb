// The ranking oracle for tests that search the demo bundle (public/generated/demo), in whichever
// state scripts/demoIndex.ts left it (demo.json says which):
// - synthetic (no model): the Float64 CPU reference over the stored vectors; the page must rank
//   exactly as it does (referenceTopIds).
// - corpus (a trained model): the Node engine, independent of the browser: onnxruntime-node runs
//   the query encoder, an ONNX q-net scores every passage, one hit per document (its best
//   passage). The browser runs the encoder in onnxruntime-web (WASM) and the q-net in our WGSL
//   kernels, so scores differ in the last float bits and near-ties may swap; the check is that the
//   browser's hit at each rank has, by the Node engine's scores, the Node engine's score at that
//   rank (within a tolerance far below the score gaps of a real ranking), and that its printed score
//   is that score, and that at least k − 2 of the k documents are the Node engine's.
import { expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NodeSearchEngine } from '../../src/cli/nodeEngine.ts';
import { bestPassagePerDocument, documentIdOf } from '../../src/core/ranking.ts';
import { demoDir, referenceTopIds } from './bundles.ts';

const root = join(import.meta.dirname, '..', '..');

export interface DemoAbout {
  kind: 'corpus' | 'synthetic';
  model: { id: string; from?: string };
  corpus: { name: string; documents?: number; passages?: number };
  examples?: string[];
}

/** What the server built (scripts/demoIndex.ts writes it before serving). */
export function readDemoAbout(): DemoAbout {
  try {
    return JSON.parse(readFileSync(join(demoDir, 'demo.json'), 'utf8'));
  } catch (e) {
    throw new Error(
      `${join(demoDir, 'demo.json')}: ${(e as Error).message} (the demo server writes it at start: is an older server still running on the test port?)`,
    );
  }
}

/**
 * Largest |browser − Node| score difference allowed, relative to the spread of the Node engine's
 * top-k scores (first − k-th): the two engines differ by float rounding only (measured ≲ 1e-5 of
 * the spread with the demo models); a wrong ranking misses by a sizeable part of the spread.
 */
export const NEURAL_SCORE_REL_TOL = 1e-3;

/** One hit as a test read it: passage id and, when it has it, the score the browser printed. */
export interface BrowserHit {
  id: string;
  score?: number;
}

export class DemoOracle {
  private constructor(
    readonly about: DemoAbout,
    private readonly engine: NodeSearchEngine | null,
    private readonly passageOf: Map<string, number>,
  ) {}

  static async open(about = readDemoAbout()): Promise<DemoOracle> {
    if (about.kind !== 'corpus') return new DemoOracle(about, null, new Map());
    if (!about.model.from) throw new Error('demo.json: model.from (the model folder) is missing');
    const engine = await NodeSearchEngine.open(join(demoDir, 'index'), resolve(root, about.model.from));
    return new DemoOracle(about, engine, new Map(engine.docs.map((d, i) => [d.id, i])));
  }

  get kind(): DemoAbout['kind'] {
    return this.about.kind;
  }

  /** Checks the browser's neural top k (passage ids, best first) against the oracle. */
  async expectNeural(query: string, got: BrowserHit[], k: number): Promise<void> {
    expect(got.length, `hits for "${query}"`).toBe(k);
    if (!this.engine) {
      expect(
        got.map((h) => h.id),
        `"${query}": ranking against the CPU reference`,
      ).toEqual(await referenceTopIds(demoDir, query, k));
      return;
    }
    const docs = this.engine.docs;
    const scores = await this.engine.neuralScores(query);
    const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
    const ref = bestPassagePerDocument(
      order.map((doc) => ({ doc, score: scores[doc] })),
      docs,
      k,
    );
    const spread = ref[0].score - ref[ref.length - 1].score;
    expect(spread, `"${query}": the Node engine's top ${k} scores all tie`).toBeGreaterThan(0);
    const tol = NEURAL_SCORE_REL_TOL * spread;
    const passages = got.map((h) => {
      const p = this.passageOf.get(h.id);
      if (p === undefined) throw new Error(`"${query}": the browser returned ${h.id}, which is not a passage of the index`);
      return p;
    });
    const lines = passages
      .map(
        (p, i) =>
          `#${i + 1} browser ${docs[p].id} ${got[i].score ?? ''} (node ${scores[p].toFixed(6)}) | node ${docs[ref[i].doc].id} ${ref[i].score.toFixed(6)}`,
      )
      .join('\n');
    const documents = passages.map((p) => documentIdOf(docs[p]));
    expect(new Set(documents).size, `"${query}": one hit per document\n${lines}`).toBe(k);
    for (let i = 0; i < k; i++) {
      expect(
        Math.abs(scores[passages[i]] - ref[i].score),
        `"${query}" rank ${i + 1}: Node's score of the browser's hit vs Node's score at that rank (tol ${tol.toExponential(2)})\n${lines}`,
      ).toBeLessThanOrEqual(tol);
      // The page prints 4 decimals.
      const printed = got[i].score;
      if (printed !== undefined)
        expect(Math.abs(printed - scores[passages[i]]), `"${query}" rank ${i + 1}: the browser's score\n${lines}`).toBeLessThanOrEqual(tol + 5e-5);
    }
    const refDocs = new Set(ref.map((h) => documentIdOf(docs[h.doc])));
    expect(documents.filter((d) => refDocs.has(d)).length, `"${query}": documents shared with the Node engine's top ${k}\n${lines}`).toBeGreaterThanOrEqual(
      k - 2,
    );
  }

  /** The Node engine's hybrid top k passage ids (a corpus index only). */
  async hybridIds(query: string, k: number): Promise<string[]> {
    if (!this.engine) throw new Error('the synthetic demo index has no lexical part');
    return (await this.engine.search(query, 'hybrid', k)).hits.map((h) => h.id);
  }

  /** The Node engine's lexical (BM25) top k passage ids (a corpus index only: the synthetic one has no text). */
  async lexicalIds(query: string, k: number): Promise<string[]> {
    if (!this.engine) throw new Error('the synthetic demo index has no lexical part');
    return (await this.engine.search(query, 'lexical', k)).hits.map((h) => h.id);
  }

  /** Passages in the index (manifest doc_count). */
  get passages(): number | undefined {
    return this.engine?.index.manifest.docCount;
  }

  async close(): Promise<void> {
    await this.engine?.close();
  }
}

/** The hits of a results list on the page: passage ids and the printed scores ("… · score 1.2345"). */
export function hitsFromMeta(ids: string[], metas: string[]): BrowserHit[] {
  return ids.map((id, i) => {
    const m = /score (-?[\d.]+(?:e[+-]?\d+)?)\s*$/.exec(metas[i] ?? '');
    return { id, ...(m ? { score: Number(m[1]) } : {}) };
  });
}
