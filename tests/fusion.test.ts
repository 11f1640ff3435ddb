// Hybrid fusion: degrades to BM25 when the neural ranking is noise or agrees only by chance (also on
// a tiny collection), follows both when they agree at the top, keeps every BM25 match ahead of the
// documents BM25 did not match, and falls back to the neural ranking when BM25 matches nothing.
import { describe, expect, it } from 'vitest';
import { AGREEMENT_SIGNIFICANCE, agreementWeight, fuseHybrid, hypergeometricTail, type ScoredDoc } from '../src/core/fusion.ts';
import { seededRandom } from '../src/core/qnet.ts';

const S = 10; // the engines' agreement depth (SEARCH_DEFAULTS.k)
const fuse = (lex: ScoredDoc[], neu: ScoredDoc[], n: number) => fuseHybrid(lex, neu, n, { agreementDepth: S });
function ranked(scores: number[]): ScoredDoc[] {
  return scores.map((score, doc) => ({ doc, score })).sort((a, b) => b.score - a.score || a.doc - b.doc);
}
function shuffled(n: number, rand: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
const asRanking = (order: number[]): ScoredDoc[] => order.map((doc, i) => ({ doc, score: order.length - i }));

describe('hypergeometricTail', () => {
  it('equals the count over every draw of a small population (marked: items 0 … K−1)', () => {
    for (const [n, marked, draws] of [
      [9, 3, 4],
      [12, 10, 10],
      [10, 4, 10],
      [11, 0, 5],
    ]) {
      const counts = new Array(draws + 1).fill(0);
      let total = 0;
      for (let mask = 0; mask < 1 << n; mask++) {
        let bits = 0;
        let x = 0;
        for (let i = 0; i < n; i++) {
          if (!(mask & (1 << i))) continue;
          bits++;
          if (i < marked) x++;
        }
        if (bits !== draws) continue;
        counts[x]++;
        total++;
      }
      for (let x = 0; x <= draws + 1; x++) {
        const want = counts.slice(x).reduce((a: number, b: number) => a + b, 0) / total;
        expect(hypergeometricTail(n, marked, draws, x)).toBeCloseTo(want, 12);
      }
    }
  });
});

describe('fuseHybrid', () => {
  const rand = seededRandom(7);
  const N = 5000;
  // BM25 matches 800 of 5000 documents
  const bm25 = ranked(Array.from({ length: N }, () => rand()))
    .slice(0, 800)
    .map((h) => ({ doc: h.doc, score: h.score * 10 }));

  it('with a neural ranking unrelated to BM25, keeps BM25 order exactly (weight 0)', () => {
    const noise = ranked(Array.from({ length: N }, () => rand()));
    const f = fuse(bm25, noise, N);
    expect(f.neuralWeight).toBe(0);
    expect(f.ranked.slice(0, bm25.length).map((h) => h.doc)).toEqual(bm25.map((h) => h.doc));
  });

  it('gives a q-net with no information weight on at most α of queries (here: random top 10s, 20,000 queries)', () => {
    // Binomial count of false weights: mean ≤ α·trials; 4 standard deviations of slack.
    const trials = 20_000;
    const bound = trials * AGREEMENT_SIGNIFICANCE + 4 * Math.sqrt(trials * AGREEMENT_SIGNIFICANCE);
    for (const n of [40, 200, 5000]) {
      let weighted = 0;
      for (let q = 0; q < trials; q++) {
        const top = new Set<number>();
        while (top.size < S) top.add(Math.floor(rand() * n));
        let x = 0;
        for (const d of top) if (d < S) x++; // BM25's top 10: documents 0 … 9
        if (agreementWeight(n, S, S, x) > 0) weighted++;
      }
      expect(weighted).toBeLessThanOrEqual(bound);
    }
  });

  it('on a collection little larger than the agreement depth, where the query matches every document, gives no weight', () => {
    // 12 documents: any two top 10s share ≥ 8 by necessity, so even identical ones prove nothing.
    const lex = asRanking(shuffled(12, rand));
    for (const neu of [asRanking(shuffled(12, rand)), lex]) {
      const f = fuse(lex, neu, 12);
      expect(f.neuralWeight).toBe(0);
      expect(f.ranked.map((h) => h.doc)).toEqual(lex.map((h) => h.doc));
    }
    // 100 documents (no more than M), all matched: chance is told from agreement.
    const lex100 = asRanking(shuffled(100, rand));
    expect(fuse(lex100, asRanking(shuffled(100, rand)), 100).neuralWeight).toBe(0);
    expect(fuse(lex100, lex100, 100).neuralWeight).toBe(1);
  });

  it("gives no weight where the q-net's top shares nothing with BM25's, however much the deeper lists share", () => {
    const lexOrder = bm25.map((h) => h.doc);
    // The q-net's top 100 are BM25's top 100, but its top 10 are BM25's 11th … 20th.
    const neu = asRanking([...lexOrder.slice(10, 20), ...lexOrder.slice(0, 10), ...lexOrder.slice(20)]);
    const f = fuse(bm25, neu, N);
    expect(f.agreement).toBe(0);
    expect(f.neuralWeight).toBe(0);
    expect(f.ranked.slice(0, bm25.length).map((h) => h.doc)).toEqual(lexOrder);
  });

  it('weighs agreement beyond chance in proportion: none up to the α level, 1 for the same top', () => {
    const lexOrder = bm25.map((h) => h.doc);
    const others = ranked(Array.from({ length: N }, () => rand()))
      .map((h) => h.doc)
      .filter((d) => !lexOrder.slice(0, 10).includes(d));
    const weights = [0, 1, 2, 3, 5, 10].map((x) => fuse(bm25, asRanking([...lexOrder.slice(0, x), ...others.slice(0, 10 - x), ...others.slice(10)]), N));
    // t = the largest overlap a random top 10 reaches with probability > α
    let t = 10;
    while (hypergeometricTail(N, 10, 10, t) <= AGREEMENT_SIGNIFICANCE) t--;
    weights.forEach((f, i) => {
      const x = [0, 1, 2, 3, 5, 10][i];
      expect(f.agreement).toBe(x / 10);
      expect(f.neuralWeight).toBeCloseTo(Math.max(0, (x - t) / (10 - t)), 12);
    });
    expect(weights.at(-1)!.neuralWeight).toBe(1);
  });

  it('ranks every BM25 match ahead of every document it did not match, those in the q-net order', () => {
    const lexOrder = bm25.map((h) => h.doc);
    const matched = new Set(lexOrder);
    const unmatched = ranked(Array.from({ length: N }, () => rand()))
      .map((h) => h.doc)
      .filter((d) => !matched.has(d));
    // Full agreement at the top, then unmatched documents the q-net likes better than most matches.
    const neu = asRanking([...lexOrder.slice(0, 10), ...unmatched.slice(0, 50), ...lexOrder.slice(10)]);
    const f = fuse(bm25, neu, N);
    expect(f.neuralWeight).toBe(1);
    expect(new Set(f.ranked.slice(0, bm25.length).map((h) => h.doc))).toEqual(matched);
    expect(f.ranked.slice(bm25.length).map((h) => h.doc)).toEqual(unmatched.slice(0, 50));
    // scores fall along the ranking
    for (let i = 1; i < f.ranked.length; i++) expect(f.ranked[i].score).toBeLessThanOrEqual(f.ranked[i - 1].score);
  });

  it('lets the neural score order documents tied on BM25, also where it has no weight', () => {
    const lex = [
      { doc: 1, score: 5 },
      { doc: 2, score: 5 },
      { doc: 3, score: 1 },
    ];
    const neu = [
      { doc: 2, score: 9 },
      { doc: 1, score: 8 },
      { doc: 3, score: 0 },
    ];
    const f = fuse(lex, neu, 3);
    expect(f.neuralWeight).toBe(0); // 3 documents: agreement proves nothing
    expect(f.ranked.map((h) => h.doc)).toEqual([2, 1, 3]);
  });

  it('uses the neural ranking when BM25 matches nothing', () => {
    const noise = ranked(Array.from({ length: 50 }, () => rand()));
    const f = fuse([], noise, 50);
    expect(f.ranked.map((h) => h.doc)).toEqual(noise.map((h) => h.doc));
  });
});
