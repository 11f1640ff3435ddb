// Fetches a model bundle and an index bundle over HTTP and checks every file against its JSON
// descriptor (length, SHA-256, structure) before anything is used.
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
import type { EncodedVectors } from '../core/vectorStorage.ts';

export interface LoadProgress {
  phase: 'model' | 'manifest' | 'vectors' | 'metadata' | 'gpu' | 'ready';
  loadedBytes: number;
  totalBytes: number;
}

export interface LoadedBundles {
  model: ModelBundle;
  manifest: IndexManifest;
  tiles: EncodedVectors[];
  docs: DocMetadata[];
  /** The query side of a trained model (absent for a synthetic one). */
  queryEncoder?: { onnx: Uint8Array; vocabText: string };
}

/** A folder URL ends with '/', so relative paths resolve inside it. */
function folder(url: string): URL {
  const u = new URL(url, self.location.href);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}

async function fetchBytes(url: URL, what: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`${what}: could not fetch ${url.href} (${(e as Error).message})`);
  }
  if (!res.ok) throw new Error(`${what}: ${url.href} answered HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

export async function loadBundles(modelUrl: string, indexUrl: string, onProgress: (p: LoadProgress) => void = () => {}): Promise<LoadedBundles> {
  const modelDir = folder(modelUrl);
  const indexDir = folder(indexUrl);
  onProgress({ phase: 'model', loadedBytes: 0, totalBytes: 0 });
  const modelBytes = await fetchBytes(new URL(MODEL_FILE_NAME, modelDir), MODEL_FILE_NAME);
  const model = parseModelJson(modelBytes);
  onProgress({ phase: 'manifest', loadedBytes: 0, totalBytes: 0 });
  const manifest = parseIndexManifest(await fetchBytes(new URL(MANIFEST_FILE_NAME, indexDir), MANIFEST_FILE_NAME));
  checkIndexAgainstModel(manifest, model, await sha256Hex(modelBytes));

  const modelFiles = model.encoders ? [model.encoders.files.queryEncoder, model.encoders.files.vocab] : [];
  const wanted = [...modelFiles, ...manifest.vectorTiles, ...manifest.metadataShards];
  const totalBytes = wanted.reduce((s, e) => s + e.bytes, 0);
  let loadedBytes = 0;
  const verified = async (ref: FileRef, phase: LoadProgress['phase'], dir = indexDir): Promise<Uint8Array> => {
    const bytes = await fetchBytes(new URL(ref.path, dir), ref.path);
    await verifyFile(ref, bytes);
    loadedBytes += bytes.byteLength;
    onProgress({ phase, loadedBytes, totalBytes });
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
  return { model, manifest, tiles, docs, queryEncoder };
}
