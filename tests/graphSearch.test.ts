// The graph walk (src/core/graphSearch.ts) against exhaustive search (referenceTopK).
import { describe, expect, it } from 'vitest';
import { BoundedTopK } from '../src/core/boundedTopK.ts';
import { GRAPH_NO_NEIGHBOR, WALK_DEFAULTS, graphSearch, graphViewOf, productWalkOptions, walksGraph } from '../src/core/graphSearch.ts';
import { exactKnnGraph } from '../src/core/knn.ts';
import { paperArchitecture, randomVectors, randomWeights, referenceScores, referenceTopK, seededRandom } from '../src/core/qnet.ts';

describe('BoundedTopK', () => {
  it('keeps the best k, score descending then id ascending, whatever the push order', () => {
    const r = seededRandom(3);
    const scores = Array.from({ length: 500 }, () => Math.floor(r() * 40)); // many ties
    const want = referenceTopK(scores, 17);
    for (const seed of [1, 2, 3]) {
      const order = Array.from({ length: 500 }, (_, i) => i);
      const rr = seededRandom(seed);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rr() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      const h = new BoundedTopK(17);
      for (const i of order) h.push(i, scores[i]);
      const got = h.sorted();
      expect(Array.from(got.ids)).toEqual(Array.from(want.indices));
      expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
    }
  });
});

describe('graphSearch', () => {
  const n = 400;
  const d = 16;
  const v = randomVectors(n, d, seededRandom(7));
  const w = randomWeights(paperArchitecture(d, 16, 2), seededRandom(8));
  const all = referenceScores(w, v, n);
  const score = (ids: Uint32Array) => Float64Array.from(ids, (i) => all[i]);

  it('equals exhaustive search when the beam covers the corpus (early stop off)', async () => {
    // The 6-NN lists plus a link to the next document: connected, so every document is reachable.
    const knn = exactKnnGraph(v, n, d, 6);
    const rows = new Uint32Array(n * 7);
    for (let i = 0; i < n; i++) {
      rows.set(knn.subarray(i * 6, i * 6 + 6), i * 7);
      rows[i * 7 + 6] = (i + 1) % n;
    }
    const g = graphViewOf(rows, n, 7);
    const want = referenceTopK(all, 10);
    const r = await graphSearch(g, score, { k: 10, entryIds: Uint32Array.of(5), beam: n, maxIterations: n, earlyStop: false });
    expect(Array.from(r.ids)).toEqual(Array.from(want.indices));
    expect(r.scored).toBeLessThanOrEqual(n);
    // Every document is reached and scored exactly once.
    expect(r.scored).toBe(n);
  });

  it('best-first: a round whose parents have only explored neighbors does not end the walk', async () => {
    // Entries 0, 1, 2 score best at first; 0 and 1 link only to entries; 2 starts a chain 3 → 4 → …
    // whose last document scores best of all. Only expanding past the empty rounds finds it.
    const m = 50;
    const rows = new Uint32Array(m * 2).fill(GRAPH_NO_NEIGHBOR);
    rows.set([1, 2], 0);
    rows.set([2, 0], 2);
    for (let i = 2; i < m - 1; i++) rows[i * 2] = i + 1;
    const sc = Float64Array.from({ length: m }, (_, i) => (i === m - 1 ? 100 : 10 - i / m));
    const g = graphViewOf(rows, m, 2);
    const r = await graphSearch(g, (ids) => Float64Array.from(ids, (i) => sc[i]), {
      k: 3,
      entryIds: Uint32Array.of(0, 1, 2),
      beam: 1,
      pool: m,
      strategy: 'best-first',
      maxIterations: 1000,
    });
    expect(Array.from(r.ids)).toEqual(Array.from(referenceTopK(sc, 3).indices));
    expect(r.scored).toBe(m);
  });

  it('best-first with a pool as large as the corpus equals exhaustive search on a connected graph', async () => {
    const knn = exactKnnGraph(v, n, d, 6);
    const rows = new Uint32Array(n * 7);
    for (let i = 0; i < n; i++) {
      rows.set(knn.subarray(i * 6, i * 6 + 6), i * 7);
      rows[i * 7 + 6] = (i + 1) % n;
    }
    const want = referenceTopK(all, 10);
    for (const beam of [1, 4, 16]) {
      const r = await graphSearch(graphViewOf(rows, n, 7), score, {
        k: 10,
        entryIds: Uint32Array.of(3, 200),
        beam,
        pool: n,
        strategy: 'best-first',
        maxIterations: 100000,
      });
      expect(Array.from(r.ids)).toEqual(Array.from(want.indices));
      expect(r.scored).toBe(n);
    }
  });

  it('scores each document at most once, honours maxScored and maxIterations, and refuses bad input', async () => {
    const degree = 8;
    const g = graphViewOf(exactKnnGraph(v, n, d, degree), n, degree);
    const seen = new Set<number>();
    const counting = (ids: Uint32Array) => {
      for (const i of ids) {
        expect(seen.has(i)).toBe(false);
        seen.add(i);
      }
      return score(ids);
    };
    const r = await graphSearch(g, counting, { k: 5, entryIds: Uint32Array.of(1, 1, 2, 3), beam: 4, maxIterations: 3, earlyStop: false });
    expect(r.iterations).toBe(3);
    expect(r.scored).toBe(seen.size);
    const capped = await graphSearch(g, score, { k: 5, entryIds: Uint32Array.of(1, 2, 3), beam: 50, maxIterations: 50, maxScored: 37 });
    expect(capped.scored).toBeLessThanOrEqual(37);
    await expect(graphSearch(g, score, { k: 5, entryIds: Uint32Array.of(n), beam: 4, maxIterations: 3 })).rejects.toThrow(/entry point 400/);
    await expect(graphSearch(g, () => new Float32Array(1), { k: 5, entryIds: Uint32Array.of(1, 2), beam: 4, maxIterations: 3 })).rejects.toThrow(
      /1 scores for 2/,
    );
    const bad = graphViewOf(new Uint32Array(n * 2).fill(n + 3), n, 2);
    await expect(graphSearch(bad, score, { k: 5, entryIds: Uint32Array.of(1), beam: 4, maxIterations: 3 })).rejects.toThrow(/neighbor 403/);
  });

  it('asks ensureLoaded for vectors before scoring them and for graph rows before reading them', async () => {
    const degree = 4;
    const rows = exactKnnGraph(v, n, d, degree);
    const loaded = { graph: new Set<number>(), vectors: new Set<number>() };
    const g = {
      n,
      degree,
      neighbors: (id: number) => {
        expect(loaded.graph.has(id)).toBe(true);
        return rows.subarray(id * degree, id * degree + degree);
      },
    };
    const checked = (ids: Uint32Array) => {
      for (const i of ids) expect(loaded.vectors.has(i)).toBe(true);
      return score(ids);
    };
    const r = await graphSearch(g, checked, {
      k: 5,
      entryIds: Uint32Array.of(0, 9),
      beam: 3,
      maxIterations: 6,
      ensureLoaded: async (ids, what) => {
        for (const i of ids) loaded[what].add(i);
      },
    });
    expect(r.scored).toBeGreaterThan(2);
  });
});

describe('graphSearch with a filter (keep)', () => {
  const n = 2000;
  const d = 16;
  const v = randomVectors(n, d, seededRandom(21));
  const w = randomWeights(paperArchitecture(d, 16, 2), seededRandom(22));
  const all = referenceScores(w, v, n);
  const g = graphViewOf(exactKnnGraph(v, n, d, 8), n, 8);
  const entries = Uint32Array.of(0, 500, 1000, 1500);
  const keepOneIn = (m: number) => (id: number) => id % m === 3;

  it("the product's walk: the result is the best kept of every passage the unfiltered walk scores, so a post-filter's hits are a subset", async () => {
    const opts = productWalkOptions(n, 10, entries);
    for (const m of [2, 7, 40]) {
      const keep = keepOneIn(m);
      const seen: number[] = [];
      const tracking = (ids: Uint32Array) => {
        seen.push(...ids);
        return Float64Array.from(ids, (i) => all[i]);
      };
      const unfiltered = await graphSearch(g, tracking, opts);
      const filtered = await graphSearch(g, (ids) => Float64Array.from(ids, (i) => all[i]), { ...opts, keep });
      // The same route: the filter does not change what is scored.
      expect(filtered.scored).toBe(unfiltered.scored);
      const kept = [...new Set(seen)].filter(keep);
      const oracle = new BoundedTopK(10);
      for (const id of kept) oracle.push(id, all[id]);
      const want = oracle.sorted();
      expect(Array.from(filtered.ids), `one in ${m}`).toEqual(Array.from(want.ids));
      expect(filtered.ids.every((id) => keep(id))).toBe(true);
      // Filtering the unfiltered top 10 afterwards (what the product did before) finds a subset.
      const post = Array.from(unfiltered.ids).filter(keep);
      expect(post.every((id) => filtered.ids.includes(id))).toBe(true);
      if (m === 40) expect(filtered.ids.length).toBeGreaterThan(post.length);
    }
  });
});

describe("the product's walk settings", () => {
  it("'auto' walks only above the stated size; the pool is 6·√N or the depth asked, if more", () => {
    expect(walksGraph('auto', WALK_DEFAULTS.autoAbovePassages)).toBe(false);
    expect(walksGraph('auto', WALK_DEFAULTS.autoAbovePassages + 1)).toBe(true);
    expect(walksGraph('on', 10)).toBe(true);
    expect(walksGraph('off', 10_000_000)).toBe(false);
    const entries = Uint32Array.of(0, 1);
    expect(productWalkOptions(1_000_000, 10, entries).pool).toBe(6000);
    expect(productWalkOptions(100, 400, entries).pool).toBe(400);
    expect(productWalkOptions(10_000, 10, entries)).toMatchObject({ k: 10, beam: 8, strategy: 'best-first', earlyStop: false, entryIds: entries });
  });
});
