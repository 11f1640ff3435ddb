// Reads model and index bundles from disk and validates every file through src/core/formats.
// As a script: `npx tsx src/cli/readBundle.ts <dir> [--model <modelDir>]` prints a summary or the first problem.
import { constants } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MAX_JSON_FILE_BYTES } from '../core/formats/fields.ts';
import {
  MANIFEST_FILE_NAME,
  MODEL_FILE_NAME,
  checkIndexAgainstModel,
  checkVectorTileValues,
  parseGraphShard,
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

/**
 * Reads one file of a bundle with its size bounded before any byte is read: only a regular file
 * (a FIFO, a device or /dev/zero behind a link is refused; opened non-blocking so a FIFO cannot
 * hang the open), of exactly `expectedBytes` when the bundle states its size, else at most
 * MAX_JSON_FILE_BYTES (manifest.json, model.json).
 */
export async function readBundleFile(dir: string, path: string, expectedBytes?: number): Promise<Uint8Array> {
  const file = join(dir, ...path.split('/'));
  let fh;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${path}: missing from the bundle in ${dir}`);
    throw new Error(`${path}: cannot open it in ${dir} (${code ?? (e as Error).message})`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`${path}: not a regular file (a device, FIFO or socket); a bundle holds plain files only`);
    if (expectedBytes !== undefined && st.size !== expectedBytes) {
      throw new Error(`${path}: ${st.size < expectedBytes ? 'truncated' : 'oversized'}: expected ${expectedBytes} bytes, got ${st.size}`);
    }
    if (expectedBytes === undefined && st.size > MAX_JSON_FILE_BYTES) throw new Error(`${path}: ${st.size} bytes, over the ${MAX_JSON_FILE_BYTES}-byte limit for a bundle's JSON file`);
    const bytes = new Uint8Array(st.size);
    let at = 0;
    while (at < bytes.length) {
      const { bytesRead } = await fh.read(bytes, at, bytes.length - at, at);
      if (bytesRead === 0) throw new Error(`${path}: truncated while being read: expected ${bytes.length} bytes, got ${at}`);
      at += bytesRead;
    }
    return bytes;
  } finally {
    await fh.close();
  }
}

async function readVerified(dir: string, ref: FileRef): Promise<Uint8Array> {
  const bytes = await readBundleFile(dir, ref.path, ref.bytes);
  await verifyFile(ref, bytes);
  return bytes;
}

export interface LoadedModel {
  model: ModelBundle;
  /** SHA-256 of model.json's bytes: what an index's model.sha256 must equal. */
  modelJsonSha256: string;
}

/** Reads model.json and checks the length and hash of every file it lists. */
export { readVerified };

export async function readModelBundle(dir: string): Promise<LoadedModel> {
  const bytes = await readBundleFile(dir, MODEL_FILE_NAME);
  const model = parseModelJson(bytes);
  if (model.encoders) {
    const f = model.encoders.files;
    for (const ref of [f.queryEncoder, f.docEncoder, f.vocab]) await readVerified(dir, ref);
  }
  return { model, modelJsonSha256: await sha256Hex(bytes) };
}

export interface LoadedIndex {
  manifest: IndexManifest;
  tiles: EncodedVectors[];
  /** All documents' metadata, in document order. */
  metadata: DocMetadata[];
  graph: Uint32Array[];
}

/**
 * Reads manifest.json and every file it lists: lengths, hashes, structure, vector values, ids
 * unique across shards; with `model`, also that the index was built for that model.
 */
export async function readIndexBundle(dir: string, opts: { model?: LoadedModel } = {}): Promise<LoadedIndex> {
  const manifest = parseIndexManifest(await readBundleFile(dir, MANIFEST_FILE_NAME));
  if (opts.model) checkIndexAgainstModel(manifest, opts.model.model, opts.model.modelJsonSha256);
  const tiles: EncodedVectors[] = [];
  for (const e of manifest.vectorTiles) {
    const tile = parseVectorTile(e, await readVerified(dir, e), manifest);
    checkVectorTileValues(e.path, tile, e.firstDoc);
    tiles.push(tile);
  }
  const metadata: DocMetadata[] = [];
  const ids = new Map<string, string>();
  for (const e of manifest.metadataShards) {
    const records = parseMetadataShard(e, await readVerified(dir, e));
    records.forEach((r, i) => {
      const prev = ids.get(r.id);
      if (prev !== undefined) throw new Error(`${e.path}: [${i}].id ${JSON.stringify(r.id)} repeats a document id of ${prev}`);
      ids.set(r.id, e.path);
      metadata.push(r);
    });
  }
  const graph: Uint32Array[] = [];
  for (const e of manifest.graphShards) graph.push(parseGraphShard(e, await readVerified(dir, e), manifest));
  // Lexical files have no v1 structure to check beyond their length and hash.
  for (const e of manifest.files) if (e.kind === 'lexical') await readVerified(dir, e);
  return { manifest, tiles, metadata, graph };
}

async function main(argv: string[]): Promise<void> {
  const dir = argv[0];
  if (!dir || dir.startsWith('-')) {
    console.error('usage: readBundle <bundle dir> [--model <model dir>]');
    process.exit(2);
  }
  const modelAt = argv.indexOf('--model');
  let model: LoadedModel | undefined;
  const hasFile = (p: string) => access(join(dir, p)).then(() => true, () => false);
  if (modelAt >= 0) model = await readModelBundle(argv[modelAt + 1]);
  else if (await hasFile(MODEL_FILE_NAME)) model = await readModelBundle(dir);
  if (model) console.log(`model ${model.model.id}${model.model.synthetic ? ' (synthetic)' : ''}: qnet dims ${JSON.stringify(model.model.qnet.dims)}, model.json sha256 ${model.modelJsonSha256}`);
  if (await hasFile(MANIFEST_FILE_NAME)) {
    const idx = await readIndexBundle(dir, { model });
    const m = idx.manifest;
    console.log(`index for ${m.model.id}${m.synthetic ? ' (synthetic)' : ''}: ${m.docCount} docs, dim ${m.dim}, ${m.storage.dtype}, ${m.vectorTiles.length} tiles, ${m.metadataShards.length} metadata shards${m.graph ? `, graph degree ${m.graph.degree}` : ''}: all files verified`);
  } else if (!model) {
    throw new Error(`${dir}: holds neither ${MODEL_FILE_NAME} nor ${MANIFEST_FILE_NAME}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
