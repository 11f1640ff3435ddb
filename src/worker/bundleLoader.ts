// Loads a model bundle and an index bundle over HTTP through the one bundle reader
// (src/core/formats/bundleReader.ts), which checks every file against its JSON descriptor (length,
// SHA-256, structure) before anything is used. Verified files are kept in IndexedDB (fileCache.ts,
// through httpSource.ts): a second visit reads them from there, checked again, instead of the network.
//
// In parts, so a first visit can answer before it has everything (searchEngine.ts): openBundles (the
// two descriptors), then the lexical part (the documents map; the lexical index's dictionary and
// chunks, and the hits' fragments, as searches need them), then the neural part (query encoder,
// vector tiles). loadBundles is all of it at once, with every passage's record from the metadata shards.
import {
  openIndexBundle,
  openModelBundle,
  readDocumentFilters,
  readDocumentMap,
  readDocumentSort,
  readFragment,
  readIndexFiles,
  readMember,
  readVerified,
  type DocMetadata,
  type DocumentFilters,
  type DocumentSortKeys,
  type IndexFileEntry,
  type IndexManifest,
  type MerkleSetDescriptor,
  type ModelBundle,
} from '../core/formats/index.ts';
import type { DocumentGroups } from '../core/ranking.ts';
import type { EncodedVectors } from '../core/vectorStorage.ts';
import { FileCache, type CacheState } from './fileCache.ts';
import { HttpSource } from './httpSource.ts';

export interface LoadProgress {
  /**
   * lexical: the documents map and the lexical index's dictionary (a progressive load's first part);
   * runtime: onnxruntime's wasm (its gzip copy), fetched with the neural half; gpu: the scorer starting.
   */
  phase: 'model' | 'manifest' | 'lexical' | 'vectors' | 'metadata' | 'runtime' | 'gpu' | 'ready';
  loadedBytes: number;
  totalBytes: number;
  /** Of loadedBytes, how many came from the IndexedDB cache. */
  cachedBytes?: number;
}

/** The two descriptors, read and checked, and where the rest of the bundles' bytes come from. */
export interface OpenedBundles {
  model: ModelBundle;
  manifest: IndexManifest;
  modelSource: HttpSource;
  indexSource: HttpSource;
  cache: FileCache;
  /** Bytes read so far, from the network and from the cache (all parts). */
  counted: { networkBytes: number; cachedBytes: number };
  /**
   * Reads one file of the index's lexical part (Lunr's JSON, or a chunked index's dictionary), when
   * it has one: fetched and verified (and kept in the file cache) when a search needs it.
   */
  readLexical?: (entry: IndexFileEntry) => Promise<Uint8Array>;
  /** A Merkle set's member (a chunked lexical index's chunk), verified. */
  readMember: (set: MerkleSetDescriptor, j: number) => Promise<Uint8Array>;
}

export interface LoadedBundles extends OpenedBundles {
  tiles: EncodedVectors[];
  docs: DocMetadata[];
  /** The query side of a trained model (absent for a synthetic one). */
  queryEncoder?: { onnx: Uint8Array; vocabText: string };
  cache: FileCache;
}

export type NeuralPart = Pick<LoadedBundles, 'tiles' | 'queryEncoder'>;

export function cacheSummary(b: OpenedBundles): { state: CacheState; reason: string; networkBytes: number; cachedBytes: number } {
  return { state: b.cache.state, reason: b.cache.reason, ...b.counted };
}

export async function openBundles(modelUrl: string, indexUrl: string, onProgress: (p: LoadProgress) => void, cache: FileCache): Promise<OpenedBundles> {
  const modelSource = new HttpSource(modelUrl, cache);
  const indexSource = new HttpSource(indexUrl, cache);
  onProgress({ phase: 'model', loadedBytes: 0, totalBytes: 0 });
  const loadedModel = await openModelBundle(modelSource);
  onProgress({ phase: 'manifest', loadedBytes: 0, totalBytes: 0 });
  const { manifest } = await openIndexBundle(indexSource, { model: loadedModel });
  const counted = { networkBytes: 0, cachedBytes: 0 };
  const count = (bytes: number, fromKept: boolean) => {
    if (fromKept) counted.cachedBytes += bytes;
    else counted.networkBytes += bytes;
  };
  return {
    model: loadedModel.model,
    manifest,
    modelSource,
    indexSource,
    cache,
    counted,
    // Each call reads (from the cache or the network) and verifies; the engine keeps the parsed index
    // and chunks (worker/modeSearch.ts), not these bytes.
    readLexical: manifest.lexical ? (entry) => readVerified(indexSource, entry, (_, b, k) => count(b, k)) : undefined,
    readMember: (set, j) => readMember(indexSource, set, j, (_, b, k) => count(b, k)),
  };
}

/** The documents map, and a reader of document j's fragment (verified), for per-hit records. */
export async function openDocumentsPart(
  b: OpenedBundles,
  onProgress: (p: LoadProgress) => void,
): Promise<{ groups: DocumentGroups; fetchDocument: (j: number) => Promise<Map<number, DocMetadata>>; fetchWhole: () => Promise<DocMetadata[]> }> {
  const count = (bytes: number, fromKept: boolean) => {
    if (fromKept) b.counted.cachedBytes += bytes;
    else b.counted.networkBytes += bytes;
  };
  const groups = await readDocumentMap(b.indexSource, b.manifest, (e, bytes, k) => {
    count(bytes, k);
    onProgress({ phase: 'lexical', loadedBytes: bytes, totalBytes: e.bytes, cachedBytes: k ? bytes : 0 });
  });
  return {
    groups,
    fetchDocument: (j) => readFragment(b.indexSource, b.manifest, groups, j, (_, bytes, k) => count(bytes, k)),
    fetchWhole: async () => (await readIndexFiles(b.indexSource, b.manifest, { kinds: ['metadata'], onRead: (_, n, k) => count(n, k) })).metadata,
  };
}

/** The documents' filters and sort keys (each null where the index has none), verified; the bytes counted as fetched. */
export async function readFacetFiles(b: OpenedBundles): Promise<{ filters: DocumentFilters | null; sort: DocumentSortKeys | null }> {
  const count = (_: unknown, bytes: number, fromKept: boolean) => {
    if (fromKept) b.counted.cachedBytes += bytes;
    else b.counted.networkBytes += bytes;
  };
  const [filters, sort] = await Promise.all([readDocumentFilters(b.indexSource, b.manifest, count), readDocumentSort(b.indexSource, b.manifest, count)]);
  return { filters, sort };
}

/** The query encoder and the vector tiles (and, with `metadata`, every passage's record from the metadata shards). */
export async function loadNeuralPart(
  b: OpenedBundles,
  onProgress: (p: LoadProgress) => void,
  /** `vectors` false: the query encoder only (an approximate search fetches the vectors it walks to, rangeFetch.ts). */
  opts: { metadata: boolean; vectors?: boolean },
): Promise<NeuralPart & { docs: DocMetadata[] }> {
  const { model, manifest, modelSource, indexSource } = b;
  const modelFiles = model.encoders ? [model.encoders.files.queryEncoder, model.encoders.files.vocab] : [];
  const vectors = opts.vectors ?? true;
  const totalBytes = [...modelFiles, ...(vectors ? manifest.vectorTiles : []), ...(opts.metadata ? manifest.metadataShards : [])].reduce(
    (s, e) => s + e.bytes,
    0,
  );
  let loadedBytes = 0;
  let cachedBytes = 0;
  const progress = (phase: LoadProgress['phase'], bytes: number, fromKept: boolean) => {
    loadedBytes += bytes;
    if (fromKept) cachedBytes += bytes;
    if (fromKept) b.counted.cachedBytes += bytes;
    else b.counted.networkBytes += bytes;
    onProgress({ phase, loadedBytes, totalBytes, cachedBytes });
  };
  let queryEncoder: LoadedBundles['queryEncoder'];
  if (model.encoders) {
    const { files } = model.encoders;
    const onnx = await readVerified(modelSource, files.queryEncoder, (_, n, k) => progress('model', n, k));
    const vocabText = new TextDecoder('utf-8', { fatal: true }).decode(await readVerified(modelSource, files.vocab, (_, n, k) => progress('model', n, k)));
    queryEncoder = { onnx, vocabText };
  }
  const { tiles, metadata } = await readIndexFiles(indexSource, manifest, {
    kinds: [...(vectors ? (['vectors'] as const) : []), ...(opts.metadata ? (['metadata'] as const) : [])],
    onRead: (e, n, k) => progress(e.kind === 'vectors' ? 'vectors' : 'metadata', n, k),
  });
  return { tiles, queryEncoder, docs: metadata };
}

/** Everything at once: the descriptors, the query encoder, the vectors and every passage's record. */
export async function loadBundles(
  modelUrl: string,
  indexUrl: string,
  onProgress: (p: LoadProgress) => void = () => {},
  cache: FileCache = new FileCache(),
): Promise<LoadedBundles> {
  const opened = await openBundles(modelUrl, indexUrl, onProgress, cache);
  return { ...opened, ...(await loadNeuralPart(opened, onProgress, { metadata: true })) };
}
