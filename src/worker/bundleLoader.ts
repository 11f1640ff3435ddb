// Loads a model bundle and an index bundle over HTTP through the one bundle reader
// (src/core/formats/bundleReader.ts), which checks every file against its JSON descriptor (length,
// SHA-256, structure) before anything is used. Verified files are kept in IndexedDB (fileCache.ts,
// through httpSource.ts): a second visit reads them from there, checked again, instead of the network.
//
// Several index bundles (an array of URLs; a URL ending in shards.json is a shard list, each of its
// shards checked against it) are opened as one collection through src/core/bundleUnion.ts, as the
// Node engine opens them: passages and documents numbered bundle after bundle.
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
import { SHARD_LIST_FILE, checkShardAgainstList, readShardListFrom } from '../core/formats/shardList.ts';
import { checkIndexAgainstModel } from '../core/formats/index.ts';
import { type BundleUnion, checkOneModel, partOfDocument, unionFilters, unionGroups, unionSortKeys } from '../core/bundleUnion.ts';
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
  /** Every index bundle, in order (the one above first); more than one: searched as one collection. */
  parts: IndexPart[];
  /** With several bundles: their union, from each one's documents map (read at open). */
  union?: Omit<BundleUnion, 'docs'> & { partGroups: DocumentGroups[] };
}

/** One index bundle of those opened: its URL, manifest and byte source, and its lexical files' readers. */
export interface IndexPart {
  url: string;
  manifest: IndexManifest;
  indexSource: HttpSource;
  readLexical?: (entry: IndexFileEntry) => Promise<Uint8Array>;
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

/** A shard list's URL (it ends in shards.json), or an index bundle folder's. */
export function isShardListUrl(url: string): boolean {
  return new URL(url, globalThis.location?.href).pathname.endsWith(`/${SHARD_LIST_FILE}`);
}

export async function openBundles(
  modelUrl: string,
  indexUrls: string | string[],
  onProgress: (p: LoadProgress) => void,
  cache: FileCache,
): Promise<OpenedBundles> {
  const modelSource = new HttpSource(modelUrl, cache);
  onProgress({ phase: 'model', loadedBytes: 0, totalBytes: 0 });
  const loadedModel = await openModelBundle(modelSource);
  onProgress({ phase: 'manifest', loadedBytes: 0, totalBytes: 0 });
  const counted = { networkBytes: 0, cachedBytes: 0 };
  const count = (bytes: number, fromKept: boolean) => {
    if (fromKept) counted.cachedBytes += bytes;
    else counted.networkBytes += bytes;
  };
  // Relative URLs (the eval page's) resolve against this page or worker, as HttpSource resolves them.
  const urls = (typeof indexUrls === 'string' ? [indexUrls] : indexUrls).map((u) => new URL(u, globalThis.location?.href).href);
  if (urls.length === 0) throw new Error('no index bundle given');
  const several = urls.length > 1 || isShardListUrl(urls[0]);
  const part = (url: string, manifest: IndexManifest, indexSource: HttpSource): IndexPart => ({
    url,
    manifest,
    indexSource,
    // Each call reads (from the cache or the network) and verifies; the engine keeps the parsed index
    // and chunks (worker/modeSearch.ts), not these bytes.
    readLexical: manifest.lexical ? (entry) => readVerified(indexSource, entry, (_, b, k) => count(b, k)) : undefined,
    readMember: (set, j) => readMember(indexSource, set, j, (_, b, k) => count(b, k)),
  });
  const parts: IndexPart[] = [];
  for (const url of urls) {
    if (!isShardListUrl(url)) {
      const indexSource = new HttpSource(url, cache);
      const { manifest } = await openIndexBundle(indexSource, several ? {} : { model: loadedModel });
      parts.push(part(url, manifest, indexSource));
      continue;
    }
    const list = await readShardListFrom(new HttpSource(new URL('./', url).href, cache), url);
    for (let i = 0; i < list.shards.length; i++) {
      const shardUrl = new URL(`${list.shards[i].path}/`, url).href;
      const indexSource = new HttpSource(shardUrl, cache);
      const opened = await openIndexBundle(indexSource);
      checkShardAgainstList(list, i, opened, opened.manifest.documents?.count, url);
      parts.push(part(shardUrl, opened.manifest, indexSource));
    }
  }
  const first = parts[0];
  const opened: OpenedBundles = { model: loadedModel.model, modelSource, cache, counted, ...first, parts };
  if (several) opened.union = await openUnion(parts, loadedModel, count);
  return opened;
}

/**
 * Several bundles as one: one model (both named where not), that model, one storage (the scorer
 * reads every tile alike: the same dtype and int8 scale, as a shard list's shards have), and each
 * one's documents map, for the union's numbering.
 */
async function openUnion(
  parts: IndexPart[],
  model: Awaited<ReturnType<typeof openModelBundle>>,
  count: (bytes: number, fromKept: boolean) => void,
): Promise<NonNullable<OpenedBundles['union']>> {
  checkOneModel(parts.map((p) => ({ name: p.url, manifest: p.manifest })));
  const s0 = parts[0].manifest.storage;
  const partGroups: DocumentGroups[] = [];
  for (const p of parts) {
    if (!p.manifest.documents)
      throw new Error(`${p.url}: has no documents part (written before 2026-12-03), which searching it with other bundles needs; rebuild it`);
    const s = p.manifest.storage;
    if (s.dtype !== s0.dtype || s.absmax?.some((v, k) => v !== s0.absmax![k]))
      throw new Error(
        `${p.url}: stores ${s.dtype} vectors${s.absmax ? ' with its own int8 scale' : ''}, ${parts[0].url} ${s0.dtype}; bundles searched together in the browser share one storage (build them as shards of one list, or with one --dtype f16 / f32)`,
      );
    partGroups.push(await readDocumentMap(p.indexSource, p.manifest, (_, bytes, k) => count(bytes, k)));
  }
  const union = unionGroups(parts.map((p, b) => ({ name: p.url, manifest: p.manifest, groups: partGroups[b] })));
  for (const p of parts) {
    try {
      checkIndexAgainstModel(p.manifest, model.model, model.modelJsonSha256);
    } catch (e) {
      throw new Error(`${p.url}: ${(e as Error).message}`);
    }
  }
  return { ...union, partGroups };
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
  const union = b.union;
  if (union) {
    // Document j is document j − firstDocument of its part, its passages offset by the part's first.
    const fetchDocument = async (j: number) => {
      const at = partOfDocument(union.parts, j);
      const p = b.parts[at];
      const { firstDocument, firstPassage } = union.parts[at];
      const records = await readFragment(p.indexSource, p.manifest, union.partGroups[at], j - firstDocument, (_, bytes, k) => count(bytes, k));
      return new Map([...records].map(([passage, r]) => [firstPassage + passage, r]));
    };
    const fetchWhole = async () => {
      const all: DocMetadata[] = [];
      for (const p of b.parts)
        for (const r of (await readIndexFiles(p.indexSource, p.manifest, { kinds: ['metadata'], onRead: (_, n, k) => count(n, k) })).metadata) all.push(r);
      return all;
    };
    return { groups: union.groups, fetchDocument, fetchWhole };
  }
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
  const read = (p: IndexPart) => Promise.all([readDocumentFilters(p.indexSource, p.manifest, count), readDocumentSort(p.indexSource, p.manifest, count)]);
  if (!b.union) {
    const [filters, sort] = await read(b.parts[0]);
    return { filters, sort };
  }
  const each = await Promise.all(b.parts.map(read));
  const union = { ...b.union, docs: [] };
  return {
    filters: unionFilters(
      union,
      each.map((e) => e[0]),
    ),
    sort: unionSortKeys(
      union,
      each.map((e) => e[1]),
    ),
  };
}

/** The query encoder and the vector tiles (and, with `metadata`, every passage's record from the metadata shards). */
export async function loadNeuralPart(
  b: OpenedBundles,
  onProgress: (p: LoadProgress) => void,
  /** `vectors` false: the query encoder only (an approximate search fetches the vectors it walks to, rangeFetch.ts). */
  opts: { metadata: boolean; vectors?: boolean },
): Promise<NeuralPart & { docs: DocMetadata[] }> {
  const { model, modelSource } = b;
  const modelFiles = model.encoders ? [model.encoders.files.queryEncoder, model.encoders.files.vocab] : [];
  const vectors = opts.vectors ?? true;
  const totalBytes = [
    ...modelFiles,
    ...b.parts.flatMap(({ manifest }) => [...(vectors ? manifest.vectorTiles : []), ...(opts.metadata ? manifest.metadataShards : [])]),
  ].reduce((s, e) => s + e.bytes, 0);
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
  // Every bundle's tiles and records, bundle after bundle: the union's passage order.
  const tiles: EncodedVectors[] = [];
  const docs: DocMetadata[] = [];
  for (const { indexSource, manifest } of b.parts) {
    const files = await readIndexFiles(indexSource, manifest, {
      kinds: [...(vectors ? (['vectors'] as const) : []), ...(opts.metadata ? (['metadata'] as const) : [])],
      onRead: (e, n, k) => progress(e.kind === 'vectors' ? 'vectors' : 'metadata', n, k),
    });
    for (const t of files.tiles) tiles.push(t);
    for (const r of files.metadata) docs.push(r);
  }
  return { tiles, queryEncoder, docs };
}

/** Everything at once: the descriptors, the query encoder, the vectors and every passage's record. */
export async function loadBundles(
  modelUrl: string,
  indexUrl: string | string[],
  onProgress: (p: LoadProgress) => void = () => {},
  cache: FileCache = new FileCache(),
): Promise<LoadedBundles> {
  const opened = await openBundles(modelUrl, indexUrl, onProgress, cache);
  return { ...opened, ...(await loadNeuralPart(opened, onProgress, { metadata: true })) };
}
