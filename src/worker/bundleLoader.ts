// Fetches a model bundle and an index bundle over HTTP and checks every file against its JSON
// descriptor (length, SHA-256, structure) before anything is used. Verified files are kept in
// IndexedDB (fileCache.ts): a second visit reads them from there, checked again, instead of the network.
import {
  checkIndexAgainstModel,
  checkVectorTileValues,
  MANIFEST_FILE_NAME,
  MODEL_FILE_NAME,
  parseIndexManifest,
  parseMetadataShard,
  parseModelJson,
  parseVectorTile,
  sha256Hex,
  verifyFile,
  type DocMetadata,
  type FileRef,
  type IndexManifest,
  type ModelBundle,
} from '../core/formats/index.ts';
import { MAX_JSON_FILE_BYTES } from '../core/formats/fields.ts';
import type { EncodedVectors } from '../core/vectorStorage.ts';
import { readBodyBounded, type BodyBound } from './boundedFetch.ts';
import { FileCache, type CacheState } from './fileCache.ts';

export interface LoadProgress {
  phase: 'model' | 'manifest' | 'vectors' | 'metadata' | 'gpu' | 'ready';
  loadedBytes: number;
  totalBytes: number;
  /** Of loadedBytes, how many came from the IndexedDB cache. */
  cachedBytes?: number;
}

export interface LoadedBundles {
  model: ModelBundle;
  manifest: IndexManifest;
  tiles: EncodedVectors[];
  docs: DocMetadata[];
  /** The query side of a trained model (absent for a synthetic one). */
  queryEncoder?: { onnx: Uint8Array; vocabText: string };
  /**
   * The index's lexical part (a serialized Lunr index), when it has one: fetched and verified (and
   * kept in the file cache) by load(), not with the rest — neural search, the
   * page's default, does not need it, and it is the largest file of a corpus index.
   */
  lexical?: { path: string; bytes: number; load: () => Promise<Uint8Array> };
  cache: { state: CacheState; reason: string; networkBytes: number; cachedBytes: number };
}

/** A folder URL ends with '/', so relative paths resolve inside it. */
function folder(url: string): URL {
  const u = new URL(url, self.location.href);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}

/** The JSON descriptors always come from the network (so a new version is seen); offline, from the cache. */
async function fetchJson(url: URL, what: string, cache: FileCache): Promise<Uint8Array> {
  try {
    const bytes = await fetchBytes(url, what, { max: MAX_JSON_FILE_BYTES });
    await cache.put('json', url.href, bytes);
    return bytes;
  } catch (e) {
    const kept = await cache.get('json', url.href);
    if (kept) return kept;
    throw e;
  }
}

/** The file's bytes, read no further than `bound` allows (boundedFetch.ts). */
async function fetchBytes(url: URL, what: string, bound: BodyBound): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`${what}: could not fetch ${url.href} (${(e as Error).message})`);
  }
  if (!res.ok) {
    res.body?.cancel().catch(() => {});
    throw new Error(`${what}: ${url.href} answered HTTP ${res.status}`);
  }
  // Static hosts and dev servers often answer a missing file with the site's HTML page.
  if ((res.headers.get('content-type') ?? '').includes('text/html')) {
    res.body?.cancel().catch(() => {});
    throw new Error(`${what}: ${url.href} answered with an HTML page, not the file (is the file missing?)`);
  }
  return readBodyBounded(res, what, bound);
}

export async function loadBundles(
  modelUrl: string,
  indexUrl: string,
  onProgress: (p: LoadProgress) => void = () => {},
  cache: FileCache = new FileCache(),
): Promise<LoadedBundles> {
  const modelDir = folder(modelUrl);
  const indexDir = folder(indexUrl);
  onProgress({ phase: 'model', loadedBytes: 0, totalBytes: 0 });
  const modelBytes = await fetchJson(new URL(MODEL_FILE_NAME, modelDir), MODEL_FILE_NAME, cache);
  const model = parseModelJson(modelBytes);
  const modelVersion = await sha256Hex(modelBytes);
  onProgress({ phase: 'manifest', loadedBytes: 0, totalBytes: 0 });
  const manifestBytes = await fetchJson(new URL(MANIFEST_FILE_NAME, indexDir), MANIFEST_FILE_NAME, cache);
  const manifest = parseIndexManifest(manifestBytes);
  const indexVersion = await sha256Hex(manifestBytes);
  checkIndexAgainstModel(manifest, model, modelVersion);
  await cache.useVersion(modelDir.href, modelVersion);
  await cache.useVersion(indexDir.href, indexVersion);

  const modelFiles = model.encoders ? [model.encoders.files.queryEncoder, model.encoders.files.vocab] : [];
  const lexicalFile = manifest.lexical ? manifest.files.find((f) => f.kind === 'lexical') : undefined;
  const wanted = [...modelFiles, ...manifest.vectorTiles, ...manifest.metadataShards];
  const totalBytes = wanted.reduce((s, e) => s + e.bytes, 0);
  let loadedBytes = 0;
  let cachedBytes = 0;
  /** The file's bytes, from the cache when it holds a copy that verifies, else from the network (then cached). */
  const fetchVerified = async (ref: FileRef, dir: URL): Promise<{ bytes: Uint8Array; fromCache: boolean }> => {
    const version = dir === indexDir ? indexVersion : modelVersion;
    let bytes = await cache.get(version, ref.path);
    let fromCache = false;
    if (bytes) {
      try {
        await verifyFile(ref, bytes); // a damaged cache entry is fetched again, never used
        fromCache = true;
      } catch {
        bytes = undefined;
      }
    }
    if (!bytes) {
      bytes = await fetchBytes(new URL(ref.path, dir), ref.path, { expected: ref.bytes });
      await verifyFile(ref, bytes);
      await cache.put(version, ref.path, bytes);
    }
    return { bytes, fromCache };
  };
  const verified = async (ref: FileRef, phase: LoadProgress['phase'], dir = indexDir): Promise<Uint8Array> => {
    const { bytes, fromCache } = await fetchVerified(ref, dir);
    loadedBytes += bytes.byteLength;
    if (fromCache) cachedBytes += bytes.byteLength;
    onProgress({ phase, loadedBytes, totalBytes, cachedBytes });
    return bytes;
  };
  let queryEncoder: LoadedBundles['queryEncoder'];
  if (model.encoders) {
    const onnx = await verified(model.encoders.files.queryEncoder, 'model', modelDir);
    const vocabText = new TextDecoder('utf-8', { fatal: true }).decode(await verified(model.encoders.files.vocab, 'model', modelDir));
    queryEncoder = { onnx, vocabText };
  }
  const tiles: EncodedVectors[] = [];
  for (const e of manifest.vectorTiles) {
    const tile = parseVectorTile(e, await verified(e, 'vectors'), manifest);
    checkVectorTileValues(e.path, tile, e.firstDoc);
    tiles.push(tile);
  }
  const docs: DocMetadata[] = [];
  for (const e of manifest.metadataShards) docs.push(...parseMetadataShard(e, await verified(e, 'metadata')));
  // Each call fetches (or reads from the cache) and verifies; the engine calls it once and keeps the
  // parsed index (worker/modeSearch.ts), not these bytes.
  const lexical = lexicalFile
    ? { path: lexicalFile.path, bytes: lexicalFile.bytes, load: async () => (await fetchVerified(lexicalFile, indexDir)).bytes }
    : undefined;
  return {
    model,
    manifest,
    tiles,
    docs,
    queryEncoder,
    lexical,
    cache: { state: cache.state, reason: cache.reason, networkBytes: loadedBytes - cachedBytes, cachedBytes },
  };
}
