// Hybrid ranking: BM25 and the q-net fused so that a weak signal cannot drown a strong one.
//
// It ranks whatever both lists number alike; the engines pass documents (src/core/modeRanking.ts).
// Nothing here depends on how many hits are asked for, so `--k 10` is the first 10 of `--k 1000`.
//
// Order: every document BM25 matched, fused, then the q-net's documents BM25 did not match, in the
// q-net's order. So at every cutoff c the hybrid top c holds min(c, matches) BM25 matches, as many
// as BM25's own top c: the q-net reorders what BM25 found and adds to it, never displaces it.
//
// Fused score of a match: norm_bm25 + w · norm_neural. Each signal is min-max normalized over its
// own top M = FUSION_DEPTH: its best item gets 1, its M-th (or, for BM25 with fewer than M matches,
// a non-matching one, whose BM25 is 0) gets 0, items below get 0 and keep BM25's order.
//
// w ∈ [0, 1] is the q-net's *confidence for this query*, measured without labels as agreement with
// BM25 beyond chance at the top, where a reader looks (depth s, the first page of hits): x of the
// q-net's top s documents are among BM25's top K = min(s, matches). A q-net that knows nothing of the
// query (untrained, out of domain) picks its top s as a random s of the collection's N documents, so
// x is hypergeometric(N, K, s) — exact, also when s or K is close to N (on a 12-document collection
// where the query matches everything, any top 10 overlaps in ≥ 8 by necessity, which proves nothing).
// Let t be the largest overlap chance reaches with probability > α (α = 0.001: a q-net with no
// information gets weight on at most 0.1% of queries); only agreement beyond it counts:
//     w = clamp((x − t) / (min(K, s) − t), 0, 1)   (0 when no overlap is that unlikely by chance).
// A q-net whose top s shares nothing with BM25's top gets w = 0, whatever the deeper lists share.
// When BM25 matches nothing (only stop words, or words absent from the collection) the q-net's
// ranking is used as is. No constant here was fitted to any test collection (docs/INDEXING.md).

export interface ScoredDoc {
  doc: number;
  score: number;
}

export interface FusionResult {
  ranked: ScoredDoc[];
  /** The neural weight w, and the agreement it came from: x / min(K, s) (see above). */
  neuralWeight: number;
  agreement: number;
}

/** M: the depth each signal is normalized over (TREC's pool and recall@100 depth), whatever k is. */
export const FUSION_DEPTH = 100;

/** α: the chance that a q-net with no information about the query gets any weight. */
export const AGREEMENT_SIGNIFICANCE = 0.001;

/** log C(a, b), as a sum of b' = min(b, a − b) terms (the engines' b is at most s). */
function logChoose(a: number, b: number): number {
  const lo = Math.min(b, a - b);
  let s = 0;
  for (let j = 1; j <= lo; j++) s += Math.log((a - lo + j) / j);
  return s;
}

/** P(X ≥ x) for X hypergeometric: draws of `draws` items from `population`, `marked` of them marked. */
export function hypergeometricTail(population: number, marked: number, draws: number, x: number): number {
  const hi = Math.min(marked, draws);
  const lo = Math.max(0, draws - (population - marked));
  let p = 0;
  for (let i = Math.max(x, lo); i <= hi; i++) p += Math.exp(logChoose(marked, i) + logChoose(population - marked, draws - i) - logChoose(population, draws));
  return Math.min(1, p);
}

/** The q-net's weight for overlap x between its top `draws` and BM25's top `marked`, out of n documents. */
export function agreementWeight(n: number, marked: number, draws: number, x: number, alpha = AGREEMENT_SIGNIFICANCE): number {
  const full = Math.min(marked, draws);
  let t = full; // the largest overlap chance reaches with probability > α
  while (t >= 0 && hypergeometricTail(n, marked, draws, t) <= alpha) t--;
  if (t >= full) return 0;
  return Math.min(1, Math.max(0, (x - t) / (full - t)));
}

export interface FusionOptions {
  /** s: the top the two rankings are compared at (the engines: the first page, SEARCH_DEFAULTS.k). */
  agreementDepth: number;
  /** M (default FUSION_DEPTH). */
  depth?: number;
  /** How many of `neural`'s first documents are its top M (default all, up to M): the engines' are those found among its top 4·M passages. */
  neuralTop?: number;
}

/**
 * `lexical`: every BM25 match, best first. `neural`: the q-net's documents, best first (its top M
 * first, see `neuralTop`; the rest are only placed after the matches). `n`: documents in the collection.
 * Returns every BM25 match, fused, then the other documents of `neural` in its order (their score
 * norm_neural − 2, below every match's); ties: higher BM25, higher neural score, lower number.
 */
export function fuseHybrid(lexical: ScoredDoc[], neural: ScoredDoc[], n: number, options: FusionOptions): FusionResult {
  const { agreementDepth: s, depth = FUSION_DEPTH } = options;
  if (lexical.length === 0) return { ranked: neural.map((h) => ({ ...h })), neuralWeight: 1, agreement: 0 };
  const neuralTop = neural.slice(0, Math.min(depth, options.neuralTop ?? depth));

  const marked = Math.min(s, lexical.length);
  const draws = Math.min(s, neuralTop.length);
  const lexHead = new Set(lexical.slice(0, marked).map((h) => h.doc));
  let x = 0;
  for (const h of neuralTop.slice(0, draws)) if (lexHead.has(h.doc)) x++;
  const full = Math.min(marked, draws);
  const agreement = full > 0 ? x / full : 0;
  const w = draws > 0 ? agreementWeight(n, marked, draws, x) : 0;

  const lexFloor = lexical.length > depth ? lexical[depth - 1].score : 0;
  const lexMax = lexical[0].score;
  const neuFloor = neuralTop.length > 0 ? neuralTop[neuralTop.length - 1].score : 0;
  const neuMax = neuralTop.length > 0 ? neuralTop[0].score : 0;
  const norm = (v: number, floor: number, max: number) => (max > floor ? Math.max(0, (v - floor) / (max - floor)) : 1);
  const neuScore = new Map<number, number>();
  for (const h of neuralTop) neuScore.set(h.doc, h.score);
  const neuNorm = (doc: number) => {
    const v = neuScore.get(doc);
    return v === undefined ? 0 : norm(v, neuFloor, neuMax);
  };

  const rows = lexical.map((h) => {
    const v = neuScore.get(h.doc);
    return { doc: h.doc, score: norm(h.score, lexFloor, lexMax) + w * neuNorm(h.doc), l: h.score, v: v ?? -Infinity };
  });
  rows.sort((a, b) => b.score - a.score || b.l - a.l || b.v - a.v || a.doc - b.doc);
  const matched = new Set(lexical.map((h) => h.doc));
  const rest = neural.filter((h) => !matched.has(h.doc)).map((h) => ({ doc: h.doc, score: neuNorm(h.doc) - 2 }));
  return { ranked: [...rows.map(({ doc, score }) => ({ doc, score })), ...rest], neuralWeight: w, agreement };
}
