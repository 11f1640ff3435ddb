// Reads model and index bundles from disk through the one bundle reader (src/core/formats/bundleReader.ts).
// As a script: `npx tsx src/cli/readBundle.ts <dir> [--model <modelDir>]` prints a summary or the first problem.
import { constants } from 'node:fs';
import { access, open, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { lexicalIndexFile } from '../core/lexicalBundle.ts';
import { MAX_JSON_FILE_BYTES } from '../core/formats/fields.ts';
import * as reader from '../core/formats/bundleReader.ts';
import {
  MANIFEST_FILE_NAME,
  MODEL_FILE_NAME,
  type ByteSource,
  type FileRef,
  type IndexFiles,
  type IndexManifest,
  type LoadedModel,
  type MerkleSetDescriptor,
  merkleMemberPath,
} from '../core/formats/index.ts';
import { documentGroups } from '../core/ranking.ts';

export type { LoadedModel };

/**
 * Reads one file of a bundle with its size bounded before any byte is read: only a regular file
 * (a FIFO, a device or /dev/zero behind a link is refused; opened non-blocking so a FIFO cannot
 * hang the open), of exactly `expectedBytes` when the bundle states its size, else at most
 * MAX_JSON_FILE_BYTES (manifest.json, model.json).
 */
export async function readBundleFile(dir: string, path: string, expectedBytes?: number, maxBytes = MAX_JSON_FILE_BYTES): Promise<Uint8Array> {
  const file = join(dir, ...path.split('/'));
  let fh: FileHandle;
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
    if (expectedBytes === undefined && st.size > maxBytes)
      throw new Error(
        `${path}: ${st.size} bytes, over the ${maxBytes}-byte limit ${maxBytes === MAX_JSON_FILE_BYTES ? "for a bundle's JSON file" : 'its descriptor states'}`,
      );
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

/** A bundle folder on disk as the reader's byte source. */
export class FileSource implements ByteSource {
  constructor(readonly dir: string) {}

  readJson(path: string): Promise<Uint8Array> {
    return readBundleFile(this.dir, path);
  }

  readUpTo(path: string, maxBytes: number): Promise<Uint8Array> {
    return readBundleFile(this.dir, path, undefined, maxBytes);
  }

  readFile(ref: FileRef): Promise<Uint8Array> {
    return readBundleFile(this.dir, ref.path, ref.bytes);
  }
}

/** One listed file of the bundle in `dir`, checked against its length and hash. */
export const readVerified = (dir: string, ref: FileRef): Promise<Uint8Array> => reader.readVerified(new FileSource(dir), ref);

/** Member j of a Merkle set of the bundle in `dir`, verified: the lexical reader's ReadSetMember. */
export const setMembers =
  (dir: string) =>
  (set: MerkleSetDescriptor, j: number): Promise<Uint8Array> =>
    reader.readMember(new FileSource(dir), set, j);

/**
 * The documents part of a loaded index checked whole (verify): the map is documentGroups of the
 * metadata records, and every fragment verifies and holds exactly its passages' records.
 */
export async function verifyDocumentsPart(dir: string, index: LoadedIndex): Promise<void> {
  const source = new FileSource(dir);
  const groups = await reader.readDocumentMap(source, index.manifest);
  const want = documentGroups(index.metadata);
  const bad = want.passages.findIndex((ps, d) => ps.length !== groups.passages[d]?.length || ps.some((p, i) => p !== groups.passages[d][i]));
  if (bad >= 0 || want.passages.length !== groups.passages.length)
    throw new Error(`${index.manifest.documents!.map}: document ${bad >= 0 ? bad : want.passages.length}'s passages differ from the metadata shards' grouping`);
  // Parsed for their checks: document numbers in range, values the format allows.
  await reader.readDocumentFilters(source, index.manifest);
  await reader.readDocumentSort(source, index.manifest);
  for (let d = 0; d < groups.passages.length; d++) {
    const records = await reader.readFragment(source, index.manifest, groups, d);
    for (const [p, r] of records)
      if (JSON.stringify(r) !== JSON.stringify(index.metadata[p]))
        throw new Error(`${merkleMemberPath(index.manifest.documents!.fragments.folder, d)}: passage ${p}'s record differs from its metadata shard's`);
  }
}

/** Reads model.json and checks the length and hash of every file it lists. */
export const readModelBundle = (dir: string): Promise<LoadedModel> => reader.readModelBundle(new FileSource(dir));

export interface LoadedIndex extends IndexFiles {
  manifest: IndexManifest;
}

/**
 * Reads manifest.json and every file it lists: lengths, hashes, structure, vector values, ids
 * unique across shards; with `model`, also that the index was built for that model.
 */
export async function readIndexBundle(dir: string, opts: { model?: LoadedModel } = {}): Promise<LoadedIndex> {
  const source = new FileSource(dir);
  const { manifest } = await reader.openIndexBundle(source, opts);
  return { manifest, ...(await reader.readIndexFiles(source, manifest)) };
}

/**
 * The lexical files of a loaded index as the lexical reader asks for them. The file it parses at open
 * (Lunr's JSON, or the chunked scheme's dictionary) is the one readIndexBundle already verified, so
 * it is not read and hashed again; the other verified bytes are let go, and chunks are read from
 * disk (and verified) when a query needs them.
 */
export function lexicalFiles(dir: string, index: LoadedIndex): (entry: FileRef) => Promise<Uint8Array> {
  const atOpen = lexicalIndexFile(index.manifest);
  let kept = index.lexical.get(atOpen);
  index.lexical.clear();
  return async (entry) => {
    if (kept && entry.path === atOpen) {
      const bytes = kept;
      kept = undefined;
      return bytes;
    }
    return readVerified(dir, entry);
  };
}

async function main(argv: string[]): Promise<void> {
  const dir = argv[0];
  if (!dir || dir.startsWith('-')) {
    console.error('usage: readBundle <bundle dir> [--model <model dir>]');
    process.exit(2);
  }
  const modelAt = argv.indexOf('--model');
  let model: LoadedModel | undefined;
  const hasFile = (p: string) =>
    access(join(dir, p)).then(
      () => true,
      () => false,
    );
  if (modelAt >= 0) model = await readModelBundle(argv[modelAt + 1]);
  else if (await hasFile(MODEL_FILE_NAME)) model = await readModelBundle(dir);
  if (model)
    console.log(
      `model ${model.model.id}${model.model.synthetic ? ' (synthetic)' : ''}: qnet dims ${JSON.stringify(model.model.qnet.dims)}, model.json sha256 ${model.modelJsonSha256}`,
    );
  if (await hasFile(MANIFEST_FILE_NAME)) {
    const idx = await readIndexBundle(dir, { model });
    const m = idx.manifest;
    console.log(
      `index for ${m.model.id}${m.synthetic ? ' (synthetic)' : ''}: ${m.docCount} docs, dim ${m.dim}, ${m.storage.dtype}, ${m.vectorTiles.length} tiles, ${m.metadataShards.length} metadata shards${m.graph ? `, graph degree ${m.graph.degree}` : ''}: all files verified`,
    );
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
