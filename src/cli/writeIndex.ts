// Writes index bundles to disk (Node). Everything goes into a staging folder beside the target that
// is renamed into place at the end, so a reader never sees a half-written bundle.
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  MANIFEST_FILE_NAME,
  MODEL_FILE_NAME,
  buildIndexManifest,
  checkVectorTileValues,
  serializeIndexManifest,
  validateDocRecord,
  type BundleFileInput,
  type IndexManifest,
  type IndexManifestFields,
  DOCUMENTS_MAP_FILE,
  FRAGMENTS_FOLDER,
  buildMerkleSet,
  encodeDocumentMap,
  encodeFragment,
  merkleMemberPath,
  type DocMetadata,
  type DocumentsDescriptor,
  type DocumentFilters,
  type DocumentSortKeys,
  FILTERS_FILE,
  SORT_FILE,
  encodeFiltersFile,
  encodeSortFile,
} from '../core/formats/index.ts';
import { documentGroups } from '../core/ranking.ts';
import { gzipSync } from 'node:zlib';
import type { EncodedVectors } from '../core/vectorStorage.ts';
import { computeChunkHashes } from '../core/formats/chunkHashes.ts';
import { type BundleRecognizer, INDEX_BUNDLE, MODEL_AND_INDEX, checkOutputFolder, cleanLeftovers, replaceFolder, stagingFolder } from './outputPath.ts';
import { lockOutput, unlockOutput } from './outputLock.ts';

export interface WriteIndexInput {
  /** dim, dtype and absmax come from the tiles, graph from `graph`; tileDocs defaults to the first tile's size. */
  manifestFields: Omit<IndexManifestFields, 'dim' | 'dtype' | 'absmax' | 'tileDocs' | 'graph'> & { tileDocs?: number };
  /** In document order; all but the last hold tileDocs documents. int8 tiles must share one absmax. */
  tiles: EncodedVectors[];
  /** Metadata shards in document order: arrays of {id, title, url, text, fields?}. */
  metadata: object[][];
  /** Optional neighbor graph shards: rows of `degree` u32 neighbor indices, in document order; entryPoints → graph.entry_points. */
  graph?: { degree: number; shards: Uint32Array[]; entryPoints?: Uint32Array };
  /** Optional lexical index: the manifest's `lexical` descriptor, its files (kind lexical), and the members of a Merkle set it describes (not listed). */
  lexical?: {
    descriptor: { scheme: string; [key: string]: unknown };
    files: { path: string; data: Uint8Array }[];
    members?: { path: string; data: Uint8Array }[];
  };
  /** Optional filters and sort keys of the documents (documentGroups' numbering of the records; `documents` their count). */
  facets?: { documents: number; filters: DocumentFilters; sort: DocumentSortKeys };
  /** Replace an existing index bundle in outDir. */
  force?: boolean;
  /** Where the output folder came from and who hears about cleaned leftovers. */
  output?: OutputOptions;
  /**
   * Rows per hashed chunk: files[i].chunks on every vector tile and graph shard (lazy loading,
   * docs/FORMATS.md); needs graph.entryPoints. Hashed from the bytes as each file is written.
   */
  chunkDocs?: number;
}

/** Shard file names: zero-padded so they sort in document order. */
export function shardPath(folder: string, i: number, ext: string): string {
  return `${folder}/${String(i).padStart(5, '0')}.${ext}`;
}

export interface OutputOptions {
  /** The option that named the folder, for messages (default "out"). */
  flag?: string;
  /** Input paths the folder must not be or contain. */
  inputs?: string[];
  /** Told what cleaning the leftovers of interrupted runs did. */
  log?: (line: string) => void;
}

/**
 * Runs `fill(tmp)` on a fresh staging folder beside outDir, then puts it in outDir's place
 * (src/cli/outputPath.ts: checks, lock, leftovers, replacement). Refuses a non-empty outDir unless
 * `force`, and even then anything but an index bundle this tool wrote; on any failure the staging
 * folder is removed and outDir is left as it was.
 */
export async function writeDirAtomically(
  outDir: string,
  force: boolean,
  fill: (tmp: string) => Promise<void>,
  o: OutputOptions = {},
  recognizer: BundleRecognizer = INDEX_BUNDLE,
): Promise<void> {
  const flag = o.flag ?? 'out';
  const target = checkOutputFolder(outDir, { flag, force, inputs: o.inputs, recognizer });
  const locked = lockOutput(target, flag);
  try {
    for (const line of cleanLeftovers(target, recognizer)) o.log?.(`${flag} ${outDir}: ${line}`);
    await mkdir(dirname(target), { recursive: true });
    const tmp = stagingFolder(target);
    try {
      await chmod(tmp, 0o755); // mkdtemp's 0700 would survive the rename and hide the bundle from a web server
      await fill(tmp);
      replaceFolder(tmp, target);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  } finally {
    if (locked) unlockOutput(target);
  }
}

function bytesOf(words: Uint32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

/**
 * Writes the bundle's files and manifest.json into `dir` (which must be fresh and empty);
 * not atomic by itself: writeIndexBundle and makeSyntheticIndex wrap it.
 */
export async function writeIndexFiles(dir: string, input: WriteIndexInput): Promise<IndexManifest> {
  const { tiles, metadata, chunkDocs } = input;
  if (tiles.length === 0) throw new Error('writeIndexBundle: need at least one vector tile');
  if (chunkDocs !== undefined) {
    if (!Number.isInteger(chunkDocs) || chunkDocs < 1) throw new Error(`writeIndexBundle: chunkDocs must be an integer ≥ 1, got ${chunkDocs}`);
    if (!input.graph?.entryPoints) throw new Error('writeIndexBundle: chunkDocs (lazy loading) needs a graph with entryPoints');
  }
  const { dtype, d, strideWords } = tiles[0];
  tiles.forEach((t, i) => {
    if (t.dtype !== dtype || t.d !== d || t.strideWords !== strideWords) {
      throw new Error(`writeIndexBundle: tile ${i} is ${t.dtype} d=${t.d} stride ${t.strideWords}, tile 0 is ${dtype} d=${d} stride ${strideWords}`);
    }
    if (t.words.length !== t.n * t.strideWords)
      throw new Error(`writeIndexBundle: tile ${i} has ${t.words.length} words, expected n × stride = ${t.n * t.strideWords}`);
  });
  const absmax = tiles[0].absmax;
  if (dtype === 'int8') {
    tiles.forEach((t, i) => {
      if (!t.absmax || t.absmax.length !== d || t.absmax.some((v, k) => v !== absmax![k])) {
        throw new Error(
          `writeIndexBundle: int8 tile ${i} has a different absmax from tile 0; encode every tile with one absmax (int8Absmax over the whole collection)`,
        );
      }
    });
  }
  const files: BundleFileInput[] = [];
  /** Writes one file; `rowBytes` (vector tiles, graph shards) makes it chunk-hashed when chunkDocs is given. */
  const put = async (f: BundleFileInput, rowBytes?: number) => {
    const abs = join(dir, ...f.path.split('/'));
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, f.data);
    if (chunkDocs !== undefined && rowBytes !== undefined)
      f.chunks = { docs: chunkDocs, sha256: await computeChunkHashes(f.data, f.docCount!, rowBytes, chunkDocs) };
    files.push(f);
  };

  let firstDoc = 0;
  for (let i = 0; i < tiles.length; i++) {
    const path = shardPath('vectors', i, 'bin');
    checkVectorTileValues(path, tiles[i], firstDoc);
    await put({ path, kind: 'vectors', data: bytesOf(tiles[i].words), firstDoc, docCount: tiles[i].n }, strideWords * 4);
    firstDoc += tiles[i].n;
  }
  firstDoc = 0;
  const records: DocMetadata[] = [];
  for (let i = 0; i < metadata.length; i++) {
    const path = shardPath('metadata', i, 'json');
    const shard = metadata[i].map((r, k) => validateDocRecord(r, path, `[${k}]`));
    const data = new TextEncoder().encode(JSON.stringify(shard));
    await put({ path, kind: 'metadata', data, firstDoc, docCount: shard.length });
    firstDoc += shard.length;
    for (const r of shard) records.push(r);
  }
  /** Writes a file that manifest.json does not list (a Merkle set's member). */
  const write = async (path: string, data: Uint8Array) => {
    const abs = join(dir, ...path.split('/'));
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, data);
  };
  const documents = await writeDocumentsPart(records, put, write, input.facets);
  if (input.graph) {
    firstDoc = 0;
    for (let i = 0; i < input.graph.shards.length; i++) {
      const rows = input.graph.shards[i];
      if (rows.length % input.graph.degree !== 0)
        throw new Error(`writeIndexBundle: graph shard ${i} has ${rows.length} values, not a multiple of degree ${input.graph.degree}`);
      const docCount = rows.length / input.graph.degree;
      await put({ path: shardPath('graph', i, 'bin'), kind: 'graph', data: bytesOf(rows), firstDoc, docCount }, input.graph.degree * 4);
      firstDoc += docCount;
    }
  }

  if (input.lexical) {
    for (const f of input.lexical.files) await put({ path: f.path, kind: 'lexical', data: f.data });
    for (const f of input.lexical.members ?? []) await write(f.path, f.data);
  }

  const { tileDocs, ...rest } = input.manifestFields;
  const fields: IndexManifestFields = {
    ...rest,
    dim: d,
    dtype,
    tileDocs: tileDocs ?? tiles[0].n,
    ...(absmax && dtype === 'int8' ? { absmax } : {}),
    ...(input.graph
      ? { graph: { degree: input.graph.degree, metric: 'l2' as const, ...(input.graph.entryPoints ? { entryPoints: input.graph.entryPoints } : {}) } }
      : {}),
    ...(input.lexical ? { lexical: input.lexical.descriptor } : {}),
    documents,
  };
  // Validates every count and size before the manifest exists; a throw here leaves nothing behind.
  const manifest = await buildIndexManifest(fields, files);
  await writeFile(join(dir, MANIFEST_FILE_NAME), serializeIndexManifest(manifest));
  return manifest;
}

/**
 * The documents part (src/core/formats/documents.ts): the map, listed through `put`, and one
 * gzip-compressed fragment per document as a Merkle set, written through `write` (not listed).
 */
async function writeDocumentsPart(
  records: DocMetadata[],
  put: (f: BundleFileInput) => Promise<void>,
  write: (path: string, data: Uint8Array) => Promise<void>,
  facets: WriteIndexInput['facets'],
): Promise<DocumentsDescriptor> {
  const groups = documentGroups(records);
  await put({ path: DOCUMENTS_MAP_FILE, kind: 'documents', data: encodeDocumentMap(groups) });
  const count = groups.passages.length;
  const named: Pick<DocumentsDescriptor, 'filters' | 'sort'> = {};
  if (facets && facets.documents !== count)
    throw new Error(`writeIndexBundle: filters and sort keys for ${facets.documents} documents, but the records make ${count}`);
  if (facets?.filters.size) {
    await put({ path: FILTERS_FILE, kind: 'documents', data: encodeFiltersFile(facets.filters, count) });
    named.filters = FILTERS_FILE;
  }
  if (facets?.sort.size) {
    await put({ path: SORT_FILE, kind: 'documents', data: encodeSortFile(facets.sort, count) });
    named.sort = SORT_FILE;
  }
  let maxTextBytes = 1;
  const payloads = groups.passages.map((ps, d) => {
    const json = encodeFragment(
      d,
      ps,
      ps.map((p) => records[p]),
    );
    maxTextBytes = Math.max(maxTextBytes, json.byteLength);
    // Level 9 and a zero mtime (zlib's default here): the same records give the same bytes.
    return new Uint8Array(gzipSync(json, { level: 9 }));
  });
  const { root, members } = await buildMerkleSet(payloads);
  for (let j = 0; j < members.length; j++) await write(merkleMemberPath(FRAGMENTS_FOLDER, j), members[j]);
  const maxBytes = members.reduce((m, b) => Math.max(m, b.byteLength), 1);
  return {
    count: groups.passages.length,
    map: DOCUMENTS_MAP_FILE,
    fragments: { folder: FRAGMENTS_FOLDER, count: members.length, root, maxBytes, encoding: 'gzip', maxTextBytes },
    ...named,
  };
}

/**
 * Writes model.json and the index built for it as outDir/model/ and outDir/index/, atomically (a
 * synthetic model with its index: the demo's stand-in, the benchmark bundles); returns the index manifest.
 */
export async function writeModelAndIndex(outDir: string, modelBytes: Uint8Array, index: WriteIndexInput): Promise<IndexManifest> {
  let manifest: IndexManifest | undefined;
  await writeDirAtomically(
    outDir,
    index.force ?? false,
    async (tmp) => {
      await mkdir(join(tmp, 'model'));
      await writeFile(join(tmp, 'model', MODEL_FILE_NAME), modelBytes);
      await mkdir(join(tmp, 'index'));
      manifest = await writeIndexFiles(join(tmp, 'index'), index);
    },
    index.output,
    MODEL_AND_INDEX,
  );
  return manifest!;
}

/** Writes a complete index bundle to outDir atomically; returns its manifest. */
export async function writeIndexBundle(outDir: string, input: WriteIndexInput): Promise<IndexManifest> {
  let manifest: IndexManifest | undefined;
  await writeDirAtomically(
    outDir,
    input.force ?? false,
    async (tmp) => {
      manifest = await writeIndexFiles(tmp, input);
    },
    input.output,
  );
  return manifest!;
}
