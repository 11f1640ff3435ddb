// Loads a model bundle and an index bundle over HTTP through the one bundle reader
// (src/core/formats/bundleReader.ts), which checks every file against its JSON descriptor (length,
// SHA-256, structure) before anything is used. Verified files are kept in IndexedDB (fileCache.ts,
// through httpSource.ts): a second visit reads them from there, checked again, instead of the network.
import {
  openIndexBundle,
  openModelBundle,
  readIndexFiles,
  readVerified,
  type DocMetadata,
  type IndexFileEntry,
  type IndexManifest,
  type ModelBundle,
} from '../core/formats/index.ts';
import type { EncodedVectors } from '../core/vectorStorage.ts';
import { FileCache, type CacheState } from './fileCache.ts';
import { HttpSource } from './httpSource.ts';

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
   * Reads one file of the index's lexical part (Lunr's JSON, or a chunked index's dictionary and
   * chunks), when it has one: fetched and verified (and kept in the file cache) when a search needs it,
   * not with the rest — neural search does not need it, and Lunr's JSON is the largest file of a corpus index.
   */
  readLexical?: (entry: IndexFileEntry) => Promise<Uint8Array>;
  cache: { state: CacheState; reason: string; networkBytes: number; cachedBytes: number };
}

export async function loadBundles(
  modelUrl: string,
  indexUrl: string,
  onProgress: (p: LoadProgress) => void = () => {},
  cache: FileCache = new FileCache(),
): Promise<LoadedBundles> {
  const modelSource = new HttpSource(modelUrl, cache);
  const indexSource = new HttpSource(indexUrl, cache);
  onProgress({ phase: 'model', loadedBytes: 0, totalBytes: 0 });
  const loadedModel = await openModelBundle(modelSource);
  const { model } = loadedModel;
  onProgress({ phase: 'manifest', loadedBytes: 0, totalBytes: 0 });
  const { manifest } = await openIndexBundle(indexSource, { model: loadedModel });

  const modelFiles = model.encoders ? [model.encoders.files.queryEncoder, model.encoders.files.vocab] : [];
  const totalBytes = [...modelFiles, ...manifest.vectorTiles, ...manifest.metadataShards].reduce((s, e) => s + e.bytes, 0);
  let loadedBytes = 0;
  let cachedBytes = 0;
  const progress = (phase: LoadProgress['phase'], bytes: number, fromKept: boolean) => {
    loadedBytes += bytes;
    if (fromKept) cachedBytes += bytes;
    onProgress({ phase, loadedBytes, totalBytes, cachedBytes });
  };
  let queryEncoder: LoadedBundles['queryEncoder'];
  if (model.encoders) {
    const { files } = model.encoders;
    const onnx = await readVerified(modelSource, files.queryEncoder, (_, b, k) => progress('model', b, k));
    const vocabText = new TextDecoder('utf-8', { fatal: true }).decode(await readVerified(modelSource, files.vocab, (_, b, k) => progress('model', b, k)));
    queryEncoder = { onnx, vocabText };
  }
  const { tiles, metadata } = await readIndexFiles(indexSource, manifest, {
    kinds: ['vectors', 'metadata'],
    onRead: (e, b, k) => progress(e.kind === 'vectors' ? 'vectors' : 'metadata', b, k),
  });
  // Each call reads (from the cache or the network) and verifies; the engine keeps the parsed index
  // and chunks (worker/modeSearch.ts), not these bytes.
  const readLexical = manifest.lexical ? (entry: IndexFileEntry) => readVerified(indexSource, entry) : undefined;
  return {
    model,
    manifest,
    tiles,
    docs: metadata,
    queryEncoder,
    readLexical,
    cache: { state: cache.state, reason: cache.reason, networkBytes: loadedBytes - cachedBytes, cachedBytes },
  };
}
