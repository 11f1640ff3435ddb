// A synthetic model + index pair for the demo until a trained model exists: random Gaussian
// document vectors and a model.json with the q-net architecture but no encoders.
// Both JSONs carry "synthetic": true so the UI can say so.
// As a script: `npx tsx src/cli/syntheticIndex.ts <outDir> [n] [dim] [dtype] [seed]`.
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MODEL_FORMAT_VERSION, serializeModelJson, sha256Hex, type IndexManifest, type ModelBundle } from '../core/formats/index.ts';
import { paperArchitecture, randomVectors, seededRandom } from '../core/qnet.ts';
import { STORAGE_DTYPES, encodeVectors, int8Absmax, type EncodedVectors, type StorageDtype } from '../core/vectorStorage.ts';
import { writeModelAndIndex } from './writeIndex.ts';

export const SYNTHETIC_MODEL_ID = 'synthetic-qnet';

export interface SyntheticIndexOptions {
  n: number;
  dim: number;
  dtype: StorageDtype;
  seed: number;
  /** Docs per vector tile (default min(n, 4096)). */
  tileDocs?: number;
  /** Docs per metadata shard (default 1000). */
  shardDocs?: number;
  /** q-net hidden width (default dim) and hidden layer count (default 2), paper-style residuals. */
  hidden?: number;
  hiddenLayers?: number;
  force?: boolean;
}

export interface SyntheticIndexResult {
  /** outDir/model: holds model.json. */
  modelDir: string;
  /** outDir/index: holds manifest.json and the data files. */
  indexDir: string;
  model: ModelBundle;
  modelJsonSha256: string;
  manifest: IndexManifest;
}

export function syntheticModel(dim: number, hidden = dim, hiddenLayers = 2): ModelBundle {
  return {
    formatVersion: MODEL_FORMAT_VERSION,
    id: SYNTHETIC_MODEL_ID,
    synthetic: true,
    qnet: paperArchitecture(dim, hidden, hiddenLayers),
    encoders: null,
  };
}

export function syntheticDocument(i: number, seed: number): { id: string; title: string; url: string; text: string } {
  return {
    id: `synthetic-${i}`,
    title: `Synthetic document ${i}`,
    url: '',
    text: `Synthetic document ${i}: its vector is random Gaussian noise (seed ${seed}), not the encoding of any text. This index stands in until a trained Hypencoder model exists.`,
  };
}

/**
 * Writes outDir/model/model.json and the index bundle outDir/index/, atomically as one folder.
 * Deterministic in `seed`. Holds the encoded vectors in memory (fine up to a few hundred MB).
 */
export async function makeSyntheticIndex(outDir: string, opts: SyntheticIndexOptions): Promise<SyntheticIndexResult> {
  const { n, dim, dtype, seed } = opts;
  if (!Number.isInteger(n) || n < 1) throw new Error(`makeSyntheticIndex: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`makeSyntheticIndex: dim must be a positive integer, got ${dim}`);
  if (!STORAGE_DTYPES.includes(dtype)) throw new Error(`makeSyntheticIndex: dtype must be one of ${STORAGE_DTYPES.join(', ')}, got ${dtype}`);
  const tileDocs = opts.tileDocs ?? Math.min(n, 4096);
  const shardDocs = opts.shardDocs ?? 1000;

  const model = syntheticModel(dim, opts.hidden ?? dim, opts.hiddenLayers ?? 2);
  const modelText = serializeModelJson(model);
  const modelBytes = new TextEncoder().encode(modelText);
  const modelJsonSha256 = await sha256Hex(modelBytes);

  // Tile by tile from one seeded stream, so memory holds encoded tiles only, not all f32 vectors.
  const tileSizes = Array.from({ length: Math.ceil(n / tileDocs) }, (_, t) => Math.min(tileDocs, n - t * tileDocs));
  let absmax: Float32Array | undefined;
  if (dtype === 'int8') {
    // int8 needs one absmax over the whole collection: a first pass over the same stream.
    const rand = seededRandom(seed);
    absmax = new Float32Array(dim);
    for (const m of tileSizes) {
      const a = int8Absmax(randomVectors(m, dim, rand), m, dim);
      for (let i = 0; i < dim; i++) absmax[i] = Math.max(absmax[i], a[i]);
    }
  }
  const rand = seededRandom(seed);
  const tiles: EncodedVectors[] = tileSizes.map((m) => encodeVectors(randomVectors(m, dim, rand), m, dim, dtype, absmax));
  const metadata: object[][] = [];
  for (let first = 0; first < n; first += shardDocs) {
    metadata.push(Array.from({ length: Math.min(shardDocs, n - first) }, (_, k) => syntheticDocument(first + k, seed)));
  }

  const modelDir = join(resolve(outDir), 'model');
  const indexDir = join(resolve(outDir), 'index');
  const manifest = await writeModelAndIndex(outDir, modelBytes, {
    manifestFields: { model: { id: model.id, sha256: modelJsonSha256 }, tileDocs, synthetic: true },
    tiles,
    metadata,
    force: opts.force,
  });
  return { modelDir, indexDir, model, modelJsonSha256, manifest };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [outDir, n = '10000', dim = '768', dtype = 'f16', seed = '1'] = process.argv.slice(2);
  if (!outDir) {
    console.error('usage: syntheticIndex <outDir> [n=10000] [dim=768] [dtype=f16] [seed=1]');
    process.exit(2);
  }
  makeSyntheticIndex(outDir, { n: Number(n), dim: Number(dim), dtype: dtype as StorageDtype, seed: Number(seed), force: true }).then(
    (r) => console.log(`wrote ${r.manifest.docCount} synthetic docs (${dtype}, dim ${dim}) to ${r.indexDir}, model to ${r.modelDir}`),
    (e: Error) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
