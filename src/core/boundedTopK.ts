// The best k (score, id) pairs of a stream, the order every ranking here uses (higher score, then
// lower id): the graph walk's result list (graphSearch.ts) and the CPU scorer's top k (qnetCpu.ts).

/** `a` ranks above `b`: higher score, then lower id. */
export function better(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa > sb || (sa === sb && ia < ib);
}

/**
 * The best `capacity` (score, id) pairs pushed so far: a binary heap with the worst at the root,
 * in two typed arrays. NaN scores never enter.
 */
export class BoundedTopK {
  readonly ids: Uint32Array;
  readonly scores: Float64Array;
  size = 0;

  constructor(readonly capacity: number) {
    this.ids = new Uint32Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  /** The worst kept score once full, else -Infinity. */
  threshold(): number {
    return this.size < this.capacity ? -Infinity : this.scores[0];
  }

  /** True when the pair entered (it ranks among the best `capacity` so far). */
  push(id: number, score: number): boolean {
    if (this.capacity === 0 || Number.isNaN(score)) return false;
    const { ids, scores } = this;
    if (this.size < this.capacity) {
      let i = this.size++;
      // Sift up: parents are worse than children.
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!better(scores[p], ids[p], score, id)) break;
        ids[i] = ids[p];
        scores[i] = scores[p];
        i = p;
      }
      ids[i] = id;
      scores[i] = score;
      return true;
    }
    if (!better(score, id, scores[0], ids[0])) return false;
    this.siftDownFromRoot(id, score);
    return true;
  }

  private siftDownFromRoot(id: number, score: number): void {
    const { ids, scores, size } = this;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      // The worse child goes up.
      const c = r < size && better(scores[l], ids[l], scores[r], ids[r]) ? r : l;
      if (!better(score, id, scores[c], ids[c])) break;
      ids[i] = ids[c];
      scores[i] = scores[c];
      i = c;
    }
    ids[i] = id;
    scores[i] = score;
  }

  /** Kept pairs, best first (does not change the heap). */
  sorted(): { ids: Uint32Array; scores: Float64Array } {
    const m = this.size;
    const order = Array.from({ length: m }, (_, i) => i);
    order.sort((a, b) => (better(this.scores[a], this.ids[a], this.scores[b], this.ids[b]) ? -1 : 1));
    const ids = new Uint32Array(m);
    const scores = new Float64Array(m);
    order.forEach((j, i) => {
      ids[i] = this.ids[j];
      scores[i] = this.scores[j];
    });
    return { ids, scores };
  }
}
