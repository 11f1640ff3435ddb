// Per-chunk SHA-256 of vector tiles and graph shards, and the graph's entry points: what a client
// needs to fetch an index lazily, a few rows at a time with HTTP Range requests, and still verify
// every byte it uses (docs/FORMATS.md, "Lazy loading"). Both are optional manifest fields that
// version-1 clients ignore (unknown keys), so manifests with and without them stay valid.
//
//   files[i].chunks = { "docs": C, "sha256": [h_0, …, h_{m−1}] }   (kinds vectors and graph)
//       chunk j holds the file's rows j·C … min((j+1)·C, doc_count) − 1, i.e. the bytes
//       j·C·R … min((j+1)·C, doc_count)·R − 1 with R the row size in bytes; m = ceil(doc_count / C)
//   graph.entry_points = [id, …]    (where a walk starts; parsed by indexManifest.ts, required here)
import { ObjectReader, fail, isObject, show } from './fields.ts';
import { sha256Hex } from './hash.ts';
import type { IndexManifest, ShardEntry } from './indexManifest.ts';

export interface ChunkedFile {
  entry: ShardEntry;
  /** Bytes per document row in this file. */
  rowBytes: number;
  /** Rows per chunk (the last chunk may hold fewer). */
  chunkDocs: number;
  sha256: string[];
}

export interface LazyLayout {
  /** In document order, like manifest.vectorTiles / graphShards. */
  vectors: ChunkedFile[];
  graph: ChunkedFile[];
  entryPoints: Uint32Array;
}

/** Row size in bytes of a file of this kind. */
export function rowBytesOf(manifest: IndexManifest, kind: 'vectors' | 'graph'): number {
  if (kind === 'vectors') return manifest.storage.strideWords * 4;
  if (!manifest.graph) throw new Error('rowBytesOf: the manifest has no graph');
  return manifest.graph.degree * 4;
}

/** Byte range [start, end) of chunk j of a file. */
export function chunkByteRange(f: Pick<ChunkedFile, 'entry' | 'rowBytes' | 'chunkDocs'>, j: number): { start: number; end: number } {
  const first = j * f.chunkDocs;
  const last = Math.min(first + f.chunkDocs, f.entry.docCount);
  return { start: first * f.rowBytes, end: last * f.rowBytes };
}

/** The chunk hashes of a file's bytes, for a writer. */
export async function computeChunkHashes(data: Uint8Array, docCount: number, rowBytes: number, chunkDocs: number): Promise<string[]> {
  if (data.byteLength !== docCount * rowBytes) throw new Error(`computeChunkHashes: ${data.byteLength} bytes is not ${docCount} rows of ${rowBytes}`);
  const out: string[] = [];
  for (let first = 0; first < docCount; first += chunkDocs) {
    const end = Math.min(first + chunkDocs, docCount);
    out.push(await sha256Hex(data.subarray(first * rowBytes, end * rowBytes)));
  }
  return out;
}

/**
 * Reads the lazy-loading fields from the manifest's JSON (the parsed manifest drops unknown keys).
 * Returns null when the index cannot be loaded lazily (no graph, or a vector tile or graph shard
 * without chunk hashes, or no entry points), with the reason; throws on a malformed field.
 */
export function readLazyLayout(json: unknown, manifest: IndexManifest, file = 'manifest.json'): { layout: LazyLayout | null; reason: string } {
  if (!isObject(json)) fail(file, '', 'must be a JSON object');
  const files = (json as { files?: unknown }).files;
  if (!Array.isArray(files)) fail(file, 'files', 'must be an array');
  const chunked = new Map<ShardEntry, ChunkedFile>();
  files.forEach((raw, i) => {
    const r = ObjectReader.of(file, `files[${i}]`, raw);
    if (!r.has('chunks')) return;
    const entry = manifest.files[i];
    if (entry.kind !== 'vectors' && entry.kind !== 'graph') fail(file, r.where('chunks'), `is only for files of kind vectors or graph, this one has kind ${show(entry.kind)}`);
    const c = r.object('chunks');
    const chunkDocs = c.int('docs', 1);
    const hashes = c.array('sha256');
    const want = Math.ceil(entry.docCount / chunkDocs);
    if (hashes.length !== want) fail(file, `${r.where('chunks')}.sha256`, `must list ceil(doc_count / docs) = ${want} hashes, got ${hashes.length}`);
    hashes.forEach((h, j) => {
      if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) fail(file, `${r.where('chunks')}.sha256[${j}]`, `must be 64 lowercase hex digits, got ${show(h)}`);
    });
    chunked.set(entry, { entry, rowBytes: rowBytesOf(manifest, entry.kind), chunkDocs, sha256: hashes as string[] });
  });
  // graph.entry_points is parsed and checked by validateIndexManifest (distinct ids below doc_count).
  const entryPoints = manifest.graph?.entryPoints ?? new Uint32Array(0);
  if (!manifest.graph) return { layout: null, reason: 'the index has no neighbor graph' };
  const missing = [...manifest.vectorTiles, ...manifest.graphShards].find((e) => !chunked.has(e));
  if (missing) return { layout: null, reason: `${missing.path} has no chunk hashes` };
  if (entryPoints.length === 0) return { layout: null, reason: 'graph.entry_points is missing' };
  return {
    layout: { vectors: manifest.vectorTiles.map((e) => chunked.get(e)!), graph: manifest.graphShards.map((e) => chunked.get(e)!), entryPoints },
    reason: '',
  };
}
