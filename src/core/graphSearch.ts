// Approximate q-net search on the document neighbor graph: Hypencoder's graph retriever (see
// ../shared/docs/hypencoder-architecture.md, "Approximate retrieval"), with every candidate of a
// round scored in one batch, so the same walk runs on the CPU (a JS scorer) and on the GPU (a
// gather-scoring kernel): only the ScoreBatch differs.
//
// Per query:
//   1. candidates = the entry points (deduplicated), all marked explored;
//   2. up to maxIterations rounds: score all candidates in one batch; push the round's best
//      max(beam, k) into a bounded top-k heap; stop early when none of them entered the heap;
//      otherwise the round's best `beam` are expanded: their not-yet-explored neighbors (marked
//      explored now) are the next round's candidates;
//   3. the heap, best first.
// Order is score descending, then document id ascending (referenceTopK's total order), so ties
// break the same way on every path. The explored set is a bitset and the frontier, heap and
// selection are typed arrays: no per-candidate JS objects.
//
// Options beyond the paper (each measured in docs/INDEXING.md, "Approximate search"):
//   - maxScored: a hard cap on the documents scored per query (the candidate list is cut, best
//     parents' neighbors first);
//   - adaptive: a round expands only those of its best `beam` whose score reaches the heap's
//     current k-th score, but at least ceil(beam / 4) of them — the beam narrows as the walk
//     converges instead of expanding `beam` documents every round.
import { BoundedTopK, better } from './boundedTopK.ts';
import { GRAPH_NO_NEIGHBOR } from './formats/indexManifest.ts';

export { GRAPH_NO_NEIGHBOR };

export interface GraphView {
  readonly n: number;
  readonly degree: number;
  /** Row of `degree` ids, padded with GRAPH_NO_NEIGHBOR. */
  neighbors(id: number): Uint32Array;
}

/** score[i] for ids[i]. */
export type ScoreBatch = (ids: Uint32Array) => Float32Array | Float64Array | Promise<Float32Array | Float64Array>;

export interface GraphSearchOptions {
  k: number;
  entryIds: Uint32Array;
  /** ncandidates: documents expanded per round. */
  beam: number;
  maxIterations: number;
  /** Stop scoring once this many documents were scored (the last batch is cut to fit). */
  maxScored?: number;
  /** Narrow the beam to the candidates that reach the current top-k (at least ceil(beam / 4)). */
  adaptive?: boolean;
  /** The paper's early stop (default: on for 'paper', off for 'best-first'): end when no candidate of a round entered the top-k. */
  earlyStop?: boolean;
  /**
   * 'paper' (default): a round expands the best `beam` of the documents scored in that round.
   * 'best-first': a round expands the best `beam` not-yet-expanded documents of a pool of the
   * best `pool` documents scored so far (HNSW's search with ef = pool, `beam` nodes at a time);
   * the walk ends when every pool document has been expanded.
   */
  strategy?: 'paper' | 'best-first';
  /** best-first: pool size (HNSW's ef); default max(beam, k). */
  pool?: number;
  /**
   * A filter: only documents it keeps enter the result. Every scored document still feeds the pool,
   * so the best-first walk without `adaptive` or `earlyStop` (the product's) takes its unfiltered
   * route, and the filter sees every document the walk scores, not only its best k.
   */
  keep?: (id: number) => boolean;
  /** Called before neighbors()/score of these ids so a lazy index can fetch them. */
  ensureLoaded?: (ids: Uint32Array, what: 'graph' | 'vectors') => Promise<void>;
}

export interface GraphSearchResult {
  /** Best first. */
  ids: Uint32Array;
  scores: Float32Array;
  /** Documents scored (each at most once). */
  scored: number;
  /** Rounds of scoring done. */
  iterations: number;
}

/** A growable u32 list. */
class U32List {
  data: Uint32Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Uint32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Uint32Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * Scored documents not yet expanded, best on top (HNSW's candidate queue): a growable binary
 * max-heap in typed arrays, same total order as BoundedTopK.
 */
class CandidateHeap {
  ids = new Uint32Array(256);
  scores = new Float64Array(256);
  size = 0;

  push(id: number, score: number): void {
    if (Number.isNaN(score)) return;
    if (this.size === this.ids.length) {
      const ids = new Uint32Array(this.size * 2);
      const scores = new Float64Array(this.size * 2);
      ids.set(this.ids);
      scores.set(this.scores);
      this.ids = ids;
      this.scores = scores;
    }
    const { ids, scores } = this;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!better(score, id, scores[p], ids[p])) break;
      ids[i] = ids[p];
      scores[i] = scores[p];
      i = p;
    }
    ids[i] = id;
    scores[i] = score;
  }

  /** Removes the best; read topId/topScore first. */
  pop(): void {
    const { ids, scores } = this;
    const last = --this.size;
    if (last === 0) return;
    const id = ids[last];
    const score = scores[last];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      const c = r < last && better(scores[r], ids[r], scores[l], ids[l]) ? r : l;
      if (!better(scores[c], ids[c], score, id)) break;
      ids[i] = ids[c];
      scores[i] = scores[c];
      i = c;
    }
    ids[i] = id;
    scores[i] = score;
  }
}

function checkOptions(graph: GraphView, opts: GraphSearchOptions): void {
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new Error(`graphSearch: ${name} must be an integer >= ${min}, got ${v}`);
  };
  int('k', opts.k, 1);
  int('beam', opts.beam, 1);
  int('maxIterations', opts.maxIterations, 1);
  if (opts.maxScored !== undefined) int('maxScored', opts.maxScored, 1);
  if (opts.pool !== undefined) int('pool', opts.pool, 1);
  if (opts.strategy !== undefined && opts.strategy !== 'paper' && opts.strategy !== 'best-first')
    throw new Error(`graphSearch: strategy must be "paper" or "best-first", got ${String(opts.strategy)}`);
  if (opts.entryIds.length === 0) throw new Error('graphSearch: entryIds is empty');
  for (const e of opts.entryIds) {
    if (e >= graph.n) throw new Error(`graphSearch: entry point ${e} is beyond the graph's ${graph.n} documents`);
  }
}

export async function graphSearch(graph: GraphView, score: ScoreBatch, opts: GraphSearchOptions): Promise<GraphSearchResult> {
  checkOptions(graph, opts);
  const { k, beam, maxIterations, ensureLoaded } = opts;
  const n = graph.n;
  const earlyStop = opts.earlyStop ?? opts.strategy !== 'best-first';
  const maxScored = opts.maxScored ?? Infinity;
  const explored = new Uint32Array((n + 31) >>> 5);
  const isExplored = (id: number) => (explored[id >>> 5] & (1 << (id & 31))) !== 0;
  const markExplored = (id: number) => (explored[id >>> 5] |= 1 << (id & 31));

  let cand = new U32List(opts.entryIds.length);
  for (const e of opts.entryIds) {
    if (!isExplored(e)) {
      markExplored(e);
      cand.push(e);
    }
  }

  const top = new BoundedTopK(k);
  const bestFirst = opts.strategy === 'best-first';
  // paper: the round's best max(beam, k). best-first: the pool (the best max(pool, beam, k) scored
  // so far; only its documents are expanded) and the scored-but-unexpanded documents, best on top.
  const round = new BoundedTopK(bestFirst ? Math.max(opts.pool ?? 0, beam, k) : Math.max(beam, k));
  const queue = bestFirst ? new CandidateHeap() : null;
  const parentsBuf = new Uint32Array(beam);
  const minBeam = Math.ceil(beam / 4);
  let scored = 0;
  let iterations = 0;

  while (cand.length > 0 && iterations < maxIterations && scored < maxScored) {
    let ids = cand.view();
    if (scored + ids.length > maxScored) ids = ids.subarray(0, maxScored - scored);
    if (ensureLoaded) await ensureLoaded(ids, 'vectors');
    const s = await score(ids);
    if (s.length !== ids.length) throw new Error(`graphSearch: the scorer returned ${s.length} scores for ${ids.length} documents`);
    scored += ids.length;
    iterations++;

    if (!bestFirst) round.clear();
    let entered = 0;
    for (let i = 0; i < ids.length; i++) {
      // best-first: only what enters the pool can ever be expanded.
      if (round.push(ids[i], s[i]) && queue) queue.push(ids[i], s[i]);
      if ((!opts.keep || opts.keep(ids[i])) && top.push(ids[i], s[i])) entered++;
    }
    if (earlyStop && entered === 0) break;
    if (iterations >= maxIterations || scored >= maxScored) break;

    // The documents to expand, best first: the round's best `beam` (paper), or the best `beam`
    // unexpanded documents still in the pool (best-first). best-first: parents whose neighbors were
    // all explored already give no candidates; then the next ones are taken, until some candidate
    // appears or no unexpanded document is left in the pool.
    let next = new U32List(0);
    const best = queue ? null : round.sorted();
    let from = 0;
    for (;;) {
      let expand = 0;
      if (queue) {
        while (queue.size > 0 && expand < beam) {
          const id = queue.ids[0];
          const sc = queue.scores[0];
          // Fallen out of the pool: it and everything below it will never be expanded.
          if (sc < round.threshold()) {
            queue.size = 0;
            break;
          }
          if (opts.adaptive && expand >= minBeam && sc < top.threshold()) break;
          queue.pop();
          parentsBuf[expand++] = id;
        }
      } else {
        for (; from < best!.ids.length && expand < beam; from++) {
          if (opts.adaptive && expand >= minBeam && best!.scores[from] < top.threshold()) {
            from = best!.ids.length;
            break;
          }
          parentsBuf[expand++] = best!.ids[from];
        }
      }
      if (expand === 0) break;
      const parents = parentsBuf.subarray(0, expand);
      if (ensureLoaded) await ensureLoaded(parents, 'graph');
      next = new U32List(expand * graph.degree);
      for (let p = 0; p < parents.length; p++) {
        const row = graph.neighbors(parents[p]);
        for (let j = 0; j < row.length; j++) {
          const v = row[j];
          if (v === GRAPH_NO_NEIGHBOR) break;
          if (v >= n) throw new Error(`graphSearch: doc ${parents[p]} has neighbor ${v}, beyond the graph's ${n} documents`);
          if (!isExplored(v)) {
            markExplored(v);
            next.push(v);
          }
        }
      }
      if (!queue || next.length > 0) break;
      // adaptive stopped at a candidate below the top-k with no new candidates: the walk is done.
      if (opts.adaptive && queue.size > 0 && queue.scores[0] < top.threshold()) break;
    }
    cand = next;
  }

  const out = top.sorted();
  return { ids: out.ids, scores: Float32Array.from(out.scores), scored, iterations };
}

/** A GraphView over rows held in memory: n × degree u32, as a graph shard stores them. */
export function graphViewOf(rows: Uint32Array, n: number, degree: number): GraphView {
  if (rows.length !== n * degree) throw new Error(`graphViewOf: ${rows.length} ids is not ${n} documents × degree ${degree}`);
  return { n, degree, neighbors: (id: number) => rows.subarray(id * degree, (id + 1) * degree) };
}

/**
 * Approximate search in the product (the engines' `approximate` option), in one place. The walk is
 * best-first with beam 8 over the index's graph and entry points, and a pool of 6·√N documents (or
 * the depth asked, if more): the operating points measured with the shipped model's q-nets
 * (docs/INDEXING.md, "Measured with a trained model") were pool 512 at 10k (recall@10 1.0), 2048 at
 * 100k (1.0) and 6144 at 1M (0.99), i.e. 5.1–6.5·√N; read off those sweeps, not held out.
 */
export const WALK_DEFAULTS = {
  beam: 8,
  poolPerSqrtN: 6,
  /** 'auto' walks above this many passages: the CPU scorer (wasm-simd, ~800k passages/s in Chromium here, docs/BENCHMARK.md) takes 122 ms for 100k, past a keystroke's 100 ms, and their vectors are ≥ 10 MB to download. */
  autoAbovePassages: 100_000,
} as const;

export type ApproximateSetting = 'auto' | 'on' | 'off';

/** The walk's options for the `depth` best of n passages from these entry points. */
export function productWalkOptions(n: number, depth: number, entryIds: Uint32Array): GraphSearchOptions {
  return {
    k: depth,
    entryIds,
    beam: WALK_DEFAULTS.beam,
    strategy: 'best-first',
    pool: Math.max(depth, Math.round(WALK_DEFAULTS.poolPerSqrtN * Math.sqrt(n))),
    maxIterations: Number.MAX_SAFE_INTEGER,
    earlyStop: false,
  };
}

/** Whether `approximate` walks the graph for an index of n passages. */
export function walksGraph(setting: ApproximateSetting, n: number): boolean {
  return setting === 'on' || (setting === 'auto' && n > WALK_DEFAULTS.autoAbovePassages);
}
