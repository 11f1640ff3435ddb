// A lazily loaded index: manifest.json up front, then only the chunks of vector tiles and graph
// shards a graph walk visits, fetched on demand with HTTP Range requests from plain static hosting
// (any server that honors Range; one that answers 200 with the whole file still works, at the cost
// of the whole file). Every chunk is checked against its SHA-256 in the manifest before use and
// kept in IndexedDB (fileCache.ts) under the manifest's hash, so a second query, or a second visit,
// reads it from there. Adjacent missing chunks of one file go out as one request. Documents are
// ordered by graph locality when the index is written, so a walk's chunks cluster.
import {
  MANIFEST_FILE_NAME,
  parseIndexManifest,
  sha256Hex,
  type IndexManifest,
} from '../core/formats/index.ts';
import { MAX_JSON_FILE_BYTES, parseJsonText } from '../core/formats/fields.ts';
import { chunkByteRange, readLazyLayout, type ChunkedFile, type LazyLayout } from '../core/formats/chunkHashes.ts';
import { GRAPH_NO_NEIGHBOR, type GraphView } from '../core/graphSearch.ts';
import { readBodyBounded } from './boundedFetch.ts';
import { FileCache } from './fileCache.ts';

export interface FetchCounters {
  /** Bytes received from the network (manifest included), and how many requests. */
  networkBytes: number;
  requests: number;
  /** Chunk bytes read back from IndexedDB (verified again). */
  cachedBytes: number;
}

/** Called with each verified vector chunk: rows firstDoc … firstDoc + n − 1 as storage words. */
export type VectorSink = (firstDoc: number, words: Uint32Array, n: number) => void;

interface ChunkKey {
  file: ChunkedFile;
  j: number;
}

export class LazyIndex {
  readonly manifest: IndexManifest;
  readonly layout: LazyLayout;
  readonly counters: FetchCounters;
  /** Total bytes of the index's vector tiles and graph shards (what an eager load fetches of them). */
  readonly indexBytes: number;
  private readonly dir: URL;
  private readonly version: string;
  private readonly cache: FileCache;
  private readonly fetchImpl: typeof fetch;
  private readonly sink: VectorSink;
  /** Loaded graph rows per graph chunk, and which vector chunks were delivered to the sink. */
  private readonly graphChunks: (Uint32Array | undefined)[][];
  private readonly vectorDone: Uint8Array[];
  private readonly inflight = new Map<string, Promise<void>>();

  private constructor(dir: URL, manifest: IndexManifest, layout: LazyLayout, version: string, manifestBytes: number, cache: FileCache, fetchImpl: typeof fetch, sink: VectorSink) {
    this.dir = dir;
    this.manifest = manifest;
    this.layout = layout;
    this.version = version;
    this.cache = cache;
    this.fetchImpl = fetchImpl;
    this.sink = sink;
    this.counters = { networkBytes: manifestBytes, requests: 1, cachedBytes: 0 };
    this.graphChunks = layout.graph.map((f) => new Array(f.sha256.length));
    this.vectorDone = layout.vectors.map((f) => new Uint8Array(f.sha256.length));
    this.indexBytes = [...manifest.vectorTiles, ...manifest.graphShards].reduce((s, e) => s + e.bytes, 0);
  }

  /**
   * Fetches and checks manifest.json; refuses an index that cannot be loaded lazily (no graph,
   * no chunk hashes or entry points), naming what is missing.
   */
  static async open(indexUrl: string, sink: VectorSink, opts: { cache?: FileCache; fetch?: typeof fetch } = {}): Promise<LazyIndex> {
    const dir = new URL(indexUrl, self.location.href);
    if (!dir.pathname.endsWith('/')) dir.pathname += '/';
    const fetchImpl = opts.fetch ?? fetch.bind(globalThis);
    const url = new URL(MANIFEST_FILE_NAME, dir);
    const res = await fetchImpl(url);
    if (!res.ok) throw new Error(`${MANIFEST_FILE_NAME}: ${url.href} answered HTTP ${res.status}`);
    const bytes = await readBodyBounded(res, MANIFEST_FILE_NAME, { max: MAX_JSON_FILE_BYTES });
    const manifest = parseIndexManifest(bytes);
    const { layout, reason } = readLazyLayout(parseJsonText(bytes, MANIFEST_FILE_NAME), manifest);
    if (!layout) throw new Error(`${MANIFEST_FILE_NAME}: this index cannot be loaded lazily: ${reason}`);
    const version = await sha256Hex(bytes);
    const cache = opts.cache ?? new FileCache();
    await cache.useVersion(dir.href, version);
    return new LazyIndex(dir, manifest, layout, version, bytes.byteLength, cache, fetchImpl, sink);
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
        waits.push(p.finally(() => run.forEach((j) => this.inflight.delete(`${what}|${fi}|${j}`))));
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
    // From IndexedDB first; the chunks it lacks (or holds damaged) come from the network.
    const got = new Map<number, Uint8Array>();
    for (const j of run) {
      const kept = await this.cache.get(this.version, `${file.entry.path}#${j}`);
      if (kept && (await sha256Hex(kept)) === file.sha256[j]) {
        got.set(j, kept);
        this.counters.cachedBytes += kept.byteLength;
      }
    }
    const missing = run.filter((j) => !got.has(j));
    for (let s = 0; s < missing.length; ) {
      let e = s + 1;
      while (e < missing.length && missing[e] === missing[e - 1] + 1) e++;
      const first = missing[s];
      const last = missing[e - 1];
      const bytes = await this.fetchRange(file, chunkByteRange(file, first).start, chunkByteRange(file, last).end);
      const base = chunkByteRange(file, first).start;
      for (let j = first; j <= last; j++) {
        const { start, end } = chunkByteRange(file, j);
        const part = bytes.slice(start - base, end - base);
        const hash = await sha256Hex(part);
        if (hash !== file.sha256[j]) {
          throw new Error(`${file.entry.path}: chunk ${j} (bytes ${start}–${end - 1}): SHA-256 mismatch: the manifest lists ${file.sha256[j]}, the server sent ${hash}`);
        }
        await this.cache.put(this.version, `${file.entry.path}#${j}`, part);
        got.set(j, part);
      }
      s = e;
    }
    for (const j of run) {
      const part = got.get(j)!;
      const words = new Uint32Array(part.buffer, part.byteOffset, part.byteLength / 4);
      if (what === 'graph') {
        for (let i = 0; i < words.length; i++) {
          const v = words[i];
          if (v !== GRAPH_NO_NEIGHBOR && v >= this.manifest.docCount) throw new Error(`${file.entry.path}: chunk ${j} lists neighbor ${v}, beyond doc_count ${this.manifest.docCount}`);
        }
        this.graphChunks[fi][j] = words;
      } else {
        const firstDoc = file.entry.firstDoc + j * file.chunkDocs;
        this.sink(firstDoc, part.byteOffset % 4 === 0 ? words : new Uint32Array(part.slice().buffer), part.byteLength / file.rowBytes);
        this.vectorDone[fi][j] = 1;
      }
    }
  }

  /** Bytes [start, end) of a file: a Range request (206), or the whole file when the host ignores Range (200). */
  private async fetchRange(file: ChunkedFile, start: number, end: number): Promise<Uint8Array> {
    const url = new URL(file.entry.path, this.dir);
    let res: Response;
    try {
      res = await this.fetchImpl(url, { headers: { Range: `bytes=${start}-${end - 1}` } });
    } catch (e) {
      throw new Error(`${file.entry.path}: could not fetch bytes ${start}–${end - 1} of ${url.href} (${(e as Error).message})`);
    }
    this.counters.requests++;
    if (res.status === 206) {
      const cr = res.headers.get('content-range') ?? '';
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(cr.trim());
      if (!m || Number(m[1]) !== start || Number(m[2]) !== end - 1) {
        res.body?.cancel().catch(() => {});
        throw new Error(`${file.entry.path}: asked for bytes ${start}–${end - 1}, the server answered Content-Range ${JSON.stringify(cr)}`);
      }
      // The body is read no further than the range asked for.
      const body = await readBodyBounded(res, `${file.entry.path}: bytes ${start}–${end - 1}`, { expected: end - start });
      this.counters.networkBytes += body.byteLength;
      return body;
    }
    if (res.status === 200) {
      // The host ignored Range and sends the whole file: read no more than the manifest says it has.
      const body = await readBodyBounded(res, `${file.entry.path} (the server ignored the Range request and sent the whole file)`, { expected: file.entry.bytes });
      this.counters.networkBytes += body.byteLength;
      return body.subarray(start, end);
    }
    res.body?.cancel().catch(() => {});
    throw new Error(`${file.entry.path}: bytes ${start}–${end - 1} of ${url.href}: HTTP ${res.status}`);
  }
}
