// A lazily loaded index: manifest.json up front, then only the chunks of vector tiles and graph
// shards a graph walk visits, fetched on demand with HTTP Range requests from plain static hosting
// (any server that honors Range; one that answers 200 with the whole file still works, at the cost
// of the whole file). Every chunk is checked against its SHA-256 in the manifest before use and
// kept in IndexedDB (fileCache.ts) under the manifest's hash, so a second query, or a second visit,
// reads it from there. Adjacent missing chunks of one file go out as one request. Documents are
// ordered by graph locality when the index is written, so a walk's chunks cluster.
import { chunkByteRange, readChunks, readLazyLayout, type ChunkedFile, type LazyLayout } from '../core/formats/chunkHashes.ts';
import { checkGraphRows, openIndexBundle, wordsOf, type IndexManifest } from '../core/formats/index.ts';
import { GRAPH_NO_NEIGHBOR, type GraphView } from '../core/graphSearch.ts';
import { FileCache } from './fileCache.ts';
import { HttpSource, type NetworkCounters } from './httpSource.ts';

export interface FetchCounters extends NetworkCounters {
  /** Chunk bytes read back from IndexedDB (verified again). */
  cachedBytes: number;
}

/** Called with each verified vector chunk: rows firstDoc … firstDoc + n − 1 as storage words. */
export type VectorSink = (firstDoc: number, words: Uint32Array, n: number) => void;

export class LazyIndex {
  /** Total bytes of the index's vector tiles and graph shards (what an eager load fetches of them). */
  readonly indexBytes: number;
  /** Loaded graph rows per graph chunk, and which vector chunks were delivered to the sink. */
  private readonly graphChunks: (Uint32Array | undefined)[][];
  private readonly vectorDone: Uint8Array[];
  private readonly inflight = new Map<string, Promise<void>>();

  private constructor(
    private readonly source: HttpSource,
    readonly manifest: IndexManifest,
    readonly layout: LazyLayout,
    /** Network bytes and requests (manifest.json included), and chunk bytes from IndexedDB. */
    readonly counters: FetchCounters,
    private readonly sink: VectorSink,
  ) {
    this.graphChunks = layout.graph.map((f) => new Array(f.sha256.length));
    this.vectorDone = layout.vectors.map((f) => new Uint8Array(f.sha256.length));
    this.indexBytes = [...manifest.vectorTiles, ...manifest.graphShards].reduce((s, e) => s + e.bytes, 0);
  }

  /**
   * Fetches and checks manifest.json; refuses an index that cannot be loaded lazily (no graph,
   * no chunk hashes or entry points), naming what is missing.
   */
  static async open(indexUrl: string, sink: VectorSink, opts: { cache?: FileCache; fetch?: typeof fetch } = {}): Promise<LazyIndex> {
    const counters: FetchCounters = { networkBytes: 0, requests: 0, cachedBytes: 0 };
    const source = new HttpSource(indexUrl, opts.cache ?? new FileCache(), { fetch: opts.fetch, counters });
    const { manifest } = await openIndexBundle(source);
    const { layout, reason } = readLazyLayout(manifest);
    if (!layout) throw new Error(`manifest.json: this index cannot be loaded lazily: ${reason}`);
    return new LazyIndex(source, manifest, layout, counters, sink);
  }

  get entryPoints(): Uint32Array {
    return this.layout.entryPoints;
  }

  /** The neighbor graph; a row must have been loaded with ensure(ids, 'graph') first. */
  get graph(): GraphView {
    const degree = this.manifest.graph!.degree;
    return {
      n: this.manifest.docCount,
      degree,
      neighbors: (id: number) => {
        const { file, j, fi } = this.locate(this.layout.graph, id);
        const rows = this.graphChunks[fi][j];
        if (!rows) throw new Error(`lazy index: the graph row of document ${id} was not loaded (call ensure first)`);
        const r = id - file.entry.firstDoc - j * file.chunkDocs;
        return rows.subarray(r * degree, (r + 1) * degree);
      },
    };
  }

  /** The vector chunk holding document `id`: its first document and row count (a paged GPU pool's unit). */
  vectorChunkOf(id: number): { firstDoc: number; rows: number } {
    const { file, j } = this.locate(this.layout.vectors, id);
    const { start, end } = chunkByteRange(file, j);
    return { firstDoc: file.entry.firstDoc + j * file.chunkDocs, rows: (end - start) / file.rowBytes };
  }

  /** Largest rows per vector chunk. */
  get vectorChunkDocs(): number {
    return Math.max(...this.layout.vectors.map((f) => Math.min(f.chunkDocs, f.entry.docCount)));
  }

  /** Marks a vector chunk as no longer held by the sink (evicted): the next ensure delivers it again (from IndexedDB when kept). */
  forgetVectorChunk(firstDoc: number): void {
    const { j, fi } = this.locate(this.layout.vectors, firstDoc);
    this.vectorDone[fi][j] = 0;
  }

  /** Loads the chunks holding these documents' vectors (handed to the sink) or graph rows. */
  async ensure(ids: Uint32Array, what: 'graph' | 'vectors'): Promise<void> {
    const files = what === 'graph' ? this.layout.graph : this.layout.vectors;
    const want = new Map<number, Set<number>>(); // file index → chunk indices
    const waits: Promise<void>[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === GRAPH_NO_NEIGHBOR) continue;
      const { j, fi } = this.locate(files, id);
      const have = what === 'graph' ? this.graphChunks[fi][j] !== undefined : this.vectorDone[fi][j] === 1;
      if (have) continue;
      const pending = this.inflight.get(`${what}|${fi}|${j}`);
      if (pending) waits.push(pending);
      else {
        if (!want.has(fi)) want.set(fi, new Set());
        want.get(fi)!.add(j);
      }
    }
    for (const [fi, set] of want) {
      const chunks = [...set].sort((a, b) => a - b);
      // Runs of consecutive chunks: one Range request each.
      for (let s = 0; s < chunks.length; ) {
        let e = s + 1;
        while (e < chunks.length && chunks[e] === chunks[e - 1] + 1) e++;
        const run = chunks.slice(s, e);
        const p = this.loadRun(what, fi, files[fi], run);
        for (const j of run) this.inflight.set(`${what}|${fi}|${j}`, p);
        waits.push(
          p.finally(() => {
            for (const j of run) this.inflight.delete(`${what}|${fi}|${j}`);
          }),
        );
        s = e;
      }
    }
    await Promise.all(waits);
  }

  private locate(files: ChunkedFile[], id: number): { file: ChunkedFile; j: number; fi: number } {
    if (!(id < this.manifest.docCount)) throw new Error(`lazy index: document ${id} is beyond the index's ${this.manifest.docCount}`);
    // Vector tiles all hold tile_docs documents; graph shards may vary: binary search by firstDoc.
    let lo = 0;
    let hi = files.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (files[mid].entry.firstDoc <= id) lo = mid;
      else hi = mid - 1;
    }
    const file = files[lo];
    return { file, j: Math.floor((id - file.entry.firstDoc) / file.chunkDocs), fi: lo };
  }

  private async loadRun(what: 'graph' | 'vectors', fi: number, file: ChunkedFile, run: number[]): Promise<void> {
    const parts = await readChunks(this.source, file, run[0], run[run.length - 1], (_, bytes, fromKept) => {
      if (fromKept) this.counters.cachedBytes += bytes;
    });
    parts.forEach((part, i) => {
      const j = run[0] + i;
      const firstDoc = file.entry.firstDoc + j * file.chunkDocs;
      const words = wordsOf(part);
      if (what === 'graph') {
        checkGraphRows(file.entry.path, words, firstDoc, this.manifest.graph!.degree, this.manifest.docCount);
        this.graphChunks[fi][j] = words;
      } else {
        this.sink(firstDoc, words, part.byteLength / file.rowBytes);
        this.vectorDone[fi][j] = 1;
      }
    });
  }
}
