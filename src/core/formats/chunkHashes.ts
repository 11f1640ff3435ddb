// Lazy loading (docs/FORMATS.md, "Lazy loading"): an index fetched a few rows at a time with HTTP
// Range requests, every byte still verified, through the per-chunk SHA-256 of its vector tiles and
// graph shards (`files[i].chunks`, typed and validated with the manifest: FileChunks in
// indexManifest.ts) and the graph's entry points.
import type { ByteSource, OnRead } from './bundleReader.ts';
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
 * The index's lazy layout, or null when it cannot be loaded lazily (no graph, a vector tile or
 * graph shard without chunk hashes, or no entry points), with the reason.
 */
export function readLazyLayout(manifest: IndexManifest): { layout: LazyLayout | null; reason: string } {
  if (!manifest.graph) return { layout: null, reason: 'the index has no neighbor graph' };
  const missing = [...manifest.vectorTiles, ...manifest.graphShards].find((e) => !e.chunks);
  if (missing) return { layout: null, reason: `${missing.path} has no chunk hashes` };
  const entryPoints = manifest.graph.entryPoints;
  if (!entryPoints) return { layout: null, reason: 'graph.entry_points is missing' };
  const chunked = (kind: 'vectors' | 'graph') => (entry: ShardEntry) => ({
    entry,
    rowBytes: rowBytesOf(manifest, kind),
    chunkDocs: entry.chunks!.docs,
    sha256: entry.chunks!.sha256,
  });
  return { layout: { vectors: manifest.vectorTiles.map(chunked('vectors')), graph: manifest.graphShards.map(chunked('graph')), entryPoints }, reason: '' };
}

/**
 * Chunks first … last of a lazily loaded file, each checked against its hash: kept copies first,
 * each run of chunks missing from them in one range read (one Range request), then kept.
 */
export async function readChunks(source: ByteSource, file: ChunkedFile, first: number, last: number, onRead?: OnRead<ShardEntry>): Promise<Uint8Array[]> {
  const { entry } = file;
  const key = (j: number) => `${entry.path}#${j}`;
  const got: (Uint8Array | undefined)[] = [];
  for (let j = first; j <= last; j++) {
    const kept = await source.kept?.get(key(j));
    if (kept && (await sha256Hex(kept)) === file.sha256[j]) {
      got[j - first] = kept;
      onRead?.(entry, kept.byteLength, true);
    }
  }
  for (let s = first; s <= last; s++) {
    if (got[s - first]) continue;
    if (!source.readRange) throw new Error(`${entry.path}: this byte source cannot read ranges, which a lazily loaded index needs`);
    let e = s;
    while (e < last && !got[e + 1 - first]) e++;
    const base = chunkByteRange(file, s).start;
    const bytes = await source.readRange(entry, base, chunkByteRange(file, e).end);
    for (let j = s; j <= e; j++) {
      const { start, end } = chunkByteRange(file, j);
      const part = bytes.slice(start - base, end - base);
      const hash = await sha256Hex(part);
      if (hash !== file.sha256[j]) {
        throw new Error(
          `${entry.path}: chunk ${j} (bytes ${start}–${end - 1}): SHA-256 mismatch: the manifest lists ${file.sha256[j]}, the server sent ${hash}`,
        );
      }
      await source.kept?.put(key(j), part);
      onRead?.(entry, part.byteLength, false);
      got[j - first] = part;
    }
    s = e;
  }
  return got as Uint8Array[];
}
