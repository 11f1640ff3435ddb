// Hybrid fusion: degrades to BM25 when the neural ranking is noise, follows both when they agree,
// falls back to the neural ranking when BM25 matches nothing.
import { describe, expect, it } from 'vitest';
import { fuseHybrid, type ScoredDoc } from '../src/core/fusion.ts';
import { seededRandom } from '../src/core/qnet.ts';

const N = 5000;
function ranked(scores: number[]): ScoredDoc[] {
  return scores.map((score, doc) => ({ doc, score })).sort((a, b) => b.score - a.score || a.doc - b.doc);
}

describe('fuseHybrid', () => {
  const rand = seededRandom(7);
  // BM25 matches 800 of 5000 documents
  const bm25 = ranked(Array.from({ length: N }, () => rand()))
    .slice(0, 800)
    .map((h) => ({ doc: h.doc, score: h.score * 10 }));

  it('with a neural ranking unrelated to BM25, keeps BM25 order exactly (weight ≈ 0)', () => {
    const noise = ranked(Array.from({ length: N }, () => rand()));
    const f = fuseHybrid(bm25, noise, N);
    expect(f.agreement).toBeGreaterThan(0); // some overlap by chance…
    expect(f.neuralWeight).toBe(0); // …which is not mistaken for agreement
    expect(f.ranked.slice(0, bm25.length).map((h) => h.doc)).toEqual(bm25.map((h) => h.doc));
    // every BM25 match is ranked, none lost to neural noise
    const pos = new Set(f.ranked.map((h) => h.doc));
    for (const h of bm25) expect(pos.has(h.doc)).toBe(true);
  });

  it('with no overlap at all, is BM25 order for all matches', () => {
    const bm25Docs = new Set(bm25.map((h) => h.doc));
    const disjoint = ranked(Array.from({ length: N }, (_, i) => (bm25Docs.has(i) ? -1 : rand())));
    const f = fuseHybrid(bm25, disjoint, N);
    expect(f.neuralWeight).toBe(0);
    expect(f.ranked.slice(0, bm25.length).map((h) => h.doc)).toEqual(bm25.map((h) => h.doc));
  });

  it('gives full weight to a neural ranking that agrees with BM25, and lets it reorder ties', () => {
    const same = bm25.map((h) => ({ doc: h.doc, score: h.score }));
    const f = fuseHybrid(bm25, same, N);
    expect(f.neuralWeight).toBe(1);
    expect(f.ranked.slice(0, 100).map((h) => h.doc)).toEqual(bm25.slice(0, 100).map((h) => h.doc));
    // two documents tied in BM25: the neural signal decides
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
    expect(fuseHybrid(lex, neu, 3).ranked.map((h) => h.doc)).toEqual([2, 1, 3]);
  });

  it('uses the neural ranking when BM25 matches nothing', () => {
    const noise = ranked(Array.from({ length: 50 }, () => rand()));
    const f = fuseHybrid([], noise, 50);
    expect(f.ranked.map((h) => h.doc)).toEqual(noise.map((h) => h.doc));
  });
});
