// Hybrid ranking: BM25 and the neural q-net fused so that a weak signal cannot drown a strong one.
//
// It ranks whatever both lists number alike; the engines pass documents (src/core/modeRanking.ts).
// Each signal's scores are min-max normalized over its own top M (M = max(100, k)): the best
// item gets 1, the M-th (or, for BM25 with fewer than M matches, a non-matching one, whose BM25
// is 0) gets 0. The fused score is
//     norm_bm25 + w · norm_neural,
// where w ∈ [0, 1] is the neural signal's *confidence for this query*, measured without any
// labels as its agreement with BM25 beyond chance: with m = min(M, BM25 matches) and overlap
// a = |top-m BM25 ∩ top-m neural| / m, chance alone gives a0 = m / N with standard deviation
// σ = sqrt(a0 (1 − a0) / m), and only agreement beyond chance's 3σ range t = a0 + 3σ counts
// (a random ranking passes it with probability ≈ 0.1%):
//     w = clamp((a − t) / (1 − t), 0, 1)   (1 when the two top-m sets are the same).
// A model that ranks at random (an untrained or out-of-domain one) agrees with BM25 only by chance,
// so w ≈ 0 and the ranking degrades to BM25's; a model whose top documents overlap BM25's gets a
// weight in proportion. BM25 is the anchor because its quality does not depend on which model
// built the index. No constant here was fitted to any test collection. When BM25 matches nothing
// (only stop words, or words absent from the collection) the neural ranking is used as is; when
// the collection is no larger than m (every item is in both lists) overlap says nothing, and
// both signals get equal weight.

export interface ScoredDoc {
  doc: number;
  score: number;
}

export interface FusionResult {
  ranked: ScoredDoc[];
  /** The neural weight w, and the overlap a it came from. */
  neuralWeight: number;
  agreement: number;
}

export const FUSION_DEPTH = 100;

/**
 * `lexical`: BM25 matches, best first (all of them, or at least the top `depth` + 1).
 * `neural`: the neural top `depth` (or more), best first. `n`: items (documents) in the collection.
 * Returns every BM25 match and the neural top `depth`, fused, best first (ties: higher BM25,
 * higher neural score, lower number).
 */
export function fuseHybrid(lexical: ScoredDoc[], neural: ScoredDoc[], n: number, depth = FUSION_DEPTH): FusionResult {
  const neuralTop = neural.slice(0, depth);
  if (lexical.length === 0) return { ranked: neuralTop.map((h) => ({ ...h })), neuralWeight: 1, agreement: 0 };
  const lexTop = lexical.slice(0, depth);
  const m = Math.min(depth, lexical.length);
  let w: number;
  let agreement: number;
  const lexSet = new Set(lexTop.slice(0, m).map((h) => h.doc));
  let overlap = 0;
  for (const h of neuralTop.slice(0, m)) if (lexSet.has(h.doc)) overlap++;
  agreement = m > 0 ? overlap / m : 0;
  const a0 = m / n;
  if (a0 >= 1) w = 1;
  else {
    const sigma = Math.sqrt((a0 * (1 - a0)) / m);
    const t = a0 + 3 * sigma;
    w = t >= 1 ? (agreement >= 1 ? 1 : 0) : Math.min(1, Math.max(0, (agreement - t) / (1 - t)));
  }

  const lexFloor = lexical.length > depth ? lexical[depth - 1].score : 0;
  const lexMax = lexTop[0].score;
  const neuFloor = neuralTop.length > 0 ? neuralTop[neuralTop.length - 1].score : 0;
  const neuMax = neuralTop.length > 0 ? neuralTop[0].score : 0;
  const norm = (s: number, floor: number, max: number) => (max > floor ? Math.max(0, (s - floor) / (max - floor)) : 1);

  // Every BM25 match is a candidate (below BM25's top M it has norm 0 but keeps its BM25 order),
  // so that fusion never ranks fewer matching documents than BM25 alone would.
  const lexScore = new Map<number, number>();
  for (const h of lexical) lexScore.set(h.doc, h.score);
  const neuScore = new Map<number, number>();
  for (const h of neuralTop) neuScore.set(h.doc, h.score);
  const docs = new Set<number>([...lexScore.keys(), ...neuScore.keys()]);
  const rows = [...docs].map((doc) => {
    const l = lexScore.get(doc);
    const v = neuScore.get(doc);
    const fused = (l === undefined ? 0 : norm(l, lexFloor, lexMax)) + w * (v === undefined ? 0 : norm(v, neuFloor, neuMax));
    return { doc, score: fused, l: l ?? -Infinity, v: v ?? -Infinity };
  });
  rows.sort((a, b) => b.score - a.score || b.l - a.l || b.v - a.v || a.doc - b.doc);
  return { ranked: rows.map(({ doc, score }) => ({ doc, score })), neuralWeight: w, agreement };
}
