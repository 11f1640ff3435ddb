// manifest.json: the index bundle's descriptor (see docs/FORMATS.md, "Index bundle").
import { STORAGE_CODECS, readStorageExtras, storageExtrasObject } from '../storageCodecs.ts';
import { STORAGE_DTYPES, rowStrideWords, type StorageDtype } from '../vectorStorage.ts';
import { ObjectReader, fail, parseJsonText, readDescriptor, show, type JsonObject } from './fields.ts';
import { readFileRef, type FileRef } from './fileRef.ts';
import { sha256Hex } from './hash.ts';
import type { ModelBundle } from './modelBundle.ts';
import { documentsDescriptorObject, readDocumentsDescriptor, type DocumentsDescriptor } from './documents.ts';

export const INDEX_FORMAT = 'hypencoder-index';
export const INDEX_FORMAT_VERSION = 1;
export const MANIFEST_FILE_NAME = 'manifest.json';

/** WebGPU's guaranteed maxStorageBufferBindingSize: every adapter can bind one whole tile. */
export const MAX_TILE_BYTES = 134_217_728;
/** Document indices are u32 on the GPU and in the graph. */
export const MAX_DOC_COUNT = 0xffff_ffff;
/** Padding value in graph rows with fewer than `degree` neighbors. */
export const GRAPH_NO_NEIGHBOR = 0xffff_ffff;

export const FILE_KINDS = ['vectors', 'metadata', 'graph', 'lexical', 'documents'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

/** A file holding docs [firstDoc, firstDoc + docCount) of the index. */
export interface ShardEntry extends FileRef {
  kind: 'vectors' | 'metadata' | 'graph';
  firstDoc: number;
  docCount: number;
  /** Optional, vectors and graph files only: per-chunk hashes for lazy loading. */
  chunks?: FileChunks;
}

/**
 * `files[i].chunks` (docs/FORMATS.md, "Lazy loading"): chunk j holds the file's rows j·docs …
 * min((j+1)·docs, doc_count) − 1, and sha256[j] is the SHA-256 of those rows' bytes.
 */
export interface FileChunks {
  /** Rows per chunk (the last chunk may hold fewer). */
  docs: number;
  /** ceil(doc_count / docs) lowercase hex digests. */
  sha256: string[];
}
/** A file read whole by its part's reader: the lexical index's files, the documents map. */
export interface PartEntry extends FileRef {
  kind: 'lexical' | 'documents';
}
export type IndexFileEntry = ShardEntry | PartEntry;

export function isShard(e: IndexFileEntry): e is ShardEntry {
  return e.kind !== 'lexical' && e.kind !== 'documents';
}

export interface StorageSpec {
  dtype: StorageDtype;
  strideWords: number;
  /** int8 only: dequantized value = q / 127 · absmax[dim]. */
  absmax?: Float32Array;
}

export interface GraphDescriptor {
  /** Neighbors stored per document (rows padded with 0xFFFFFFFF). */
  degree: number;
  metric: 'l2';
  /**
   * Optional `entry_points`: where a graph walk starts (src/core/graphSearch.ts), distinct
   * document indices below doc_count; absent in older manifests (a client then picks its own).
   */
  entryPoints?: Uint32Array;
}

/** Lexical index: v1 fixes only the scheme name; the rest belongs to the scheme. */
export interface LexicalDescriptor {
  scheme: string;
  /** The whole descriptor object as written, for the scheme's own reader. */
  raw: JsonObject;
}

export interface IndexManifest {
  formatVersion: number;
  synthetic: boolean;
  model: { id: string; sha256: string };
  docCount: number;
  dim: number;
  storage: StorageSpec;
  tileDocs: number;
  /** As listed in manifest.json. */
  files: IndexFileEntry[];
  graph: GraphDescriptor | null;
  lexical: LexicalDescriptor | null;
  /** The documents part (map and fragments), absent in bundles written before 2026-12-03. */
  documents: DocumentsDescriptor | null;
  /** The shards of each kind in document order (views of `files`). */
  vectorTiles: ShardEntry[];
  metadataShards: ShardEntry[];
  graphShards: ShardEntry[];
}

const INDEX_DESCRIPTOR = { tag: INDEX_FORMAT, supported: INDEX_FORMAT_VERSION, hint: { 'hypencoder-model': 'this is a model.json, not an index manifest' } };

export const parseIndexManifest = (input: string | Uint8Array, file = MANIFEST_FILE_NAME): IndexManifest =>
  validateIndexManifest(parseJsonText(input, file), file);

export function validateIndexManifest(json: unknown, file = MANIFEST_FILE_NAME): IndexManifest {
  const { r, formatVersion } = readDescriptor(json, file, INDEX_DESCRIPTOR);
  const synthetic = r.optionalBool('synthetic') ?? false;
  const m = r.object('model');
  const model = { id: m.string('id', { nonEmpty: true }), sha256: m.sha256('sha256') };
  const docCount = r.int('doc_count', 1);
  if (docCount > MAX_DOC_COUNT) fail(file, 'doc_count', `must be at most ${MAX_DOC_COUNT} (document indices are u32), got ${docCount}`);
  const dim = r.int('dim', 1);

  const s = r.object('storage');
  const dtype = s.literal('dtype', STORAGE_DTYPES);
  const strideWords = s.int('stride_words', 1);
  const wantStride = rowStrideWords(dtype, dim);
  if (strideWords !== wantStride) {
    fail(file, 'storage.stride_words', `must be ${wantStride} for dtype ${dtype} and dim ${dim} (${STORAGE_CODECS[dtype].strideRule}), got ${strideWords}`);
  }
  const storage: StorageSpec = { dtype, strideWords, ...readStorageExtras(s, dtype, dim) };

  const tileDocs = r.int('tile_docs', 1);
  const tileBytes = tileDocs * strideWords * 4;
  if (tileBytes > MAX_TILE_BYTES) {
    fail(
      file,
      'tile_docs',
      `× stride_words × 4 = ${tileBytes} bytes exceeds ${MAX_TILE_BYTES}, the largest storage buffer every WebGPU adapter can bind; use tile_docs <= ${Math.floor(MAX_TILE_BYTES / (strideWords * 4))}`,
    );
  }

  const graph = r.has('graph') ? readGraph(r.object('graph'), docCount) : null;
  const lexical = r.has('lexical') ? readLexical(r.object('lexical')) : null;
  const documents = r.has('documents') ? readDocumentsDescriptor(r.object('documents')) : null;

  const list = r.array('files');
  const files: IndexFileEntry[] = [];
  const paths = new Map<string, number>();
  list.forEach((v, i) => {
    const f = ObjectReader.of(file, `files[${i}]`, v);
    const ref = readFileRef(f);
    if (ref.path === MANIFEST_FILE_NAME) fail(file, f.where('path'), `must not be ${MANIFEST_FILE_NAME} itself`);
    const prev = paths.get(ref.path);
    if (prev !== undefined) fail(file, f.where('path'), `${show(ref.path)} is already listed as files[${prev}]`);
    paths.set(ref.path, i);
    const kind = f.literal('kind', FILE_KINDS);
    if (kind === 'lexical' || kind === 'documents') {
      if (f.has('chunks')) readChunks(f, kind, 0);
      files.push({ ...ref, kind });
    } else {
      const entry: ShardEntry = { ...ref, kind, firstDoc: f.int('first_doc', 0), docCount: f.int('doc_count', 1) };
      if (f.has('chunks')) entry.chunks = readChunks(f, kind, entry.docCount);
      files.push(entry);
    }
  });

  const shardsOf = (kind: ShardEntry['kind']) => files.filter((e): e is ShardEntry => e.kind === kind);
  const vectorTiles = shardsOf('vectors');
  const metadataShards = shardsOf('metadata');
  const graphShards = shardsOf('graph');
  const where = (e: IndexFileEntry) => `files[${files.indexOf(e)}] (${e.path})`;

  checkCover(file, 'vector tiles', 'vector tile', vectorTiles, docCount, where, (e, last) => {
    if (!last && e.docCount !== tileDocs)
      fail(file, where(e), `doc_count must be tile_docs (${tileDocs}), got ${e.docCount}: only the last vector tile may be shorter`);
    if (last && e.docCount > tileDocs) fail(file, where(e), `doc_count must be at most tile_docs (${tileDocs}), got ${e.docCount}`);
    return e.docCount * strideWords * 4;
  });
  checkCover(file, 'metadata shards', 'metadata shard', metadataShards, docCount, where, null);
  if (graph) {
    if (graphShards.length === 0) fail(file, 'graph', 'is given but no file has kind "graph"');
    checkCover(file, 'graph shards', 'graph shard', graphShards, docCount, where, (e) => e.docCount * graph.degree * 4);
  } else if (graphShards.length > 0) {
    fail(file, where(graphShards[0]), 'has kind "graph" but the manifest has no graph descriptor');
  }
  const lexicalFiles = files.filter((e) => e.kind === 'lexical');
  if (!lexical && lexicalFiles.length > 0) fail(file, where(lexicalFiles[0]), 'has kind "lexical" but the manifest has no lexical descriptor');
  if (lexical && lexicalFiles.length === 0) fail(file, 'lexical', 'is given but no file has kind "lexical"');
  const documentFiles = files.filter((e) => e.kind === 'documents');
  if (documents) {
    const named = [documents.map, documents.filters, documents.sort].filter((p): p is string => p !== undefined);
    if (new Set(named).size !== named.length) fail(file, 'documents', `names one file twice: ${show(named)}`);
    for (const [field, p] of [
      ['map', documents.map],
      ['filters', documents.filters],
      ['sort', documents.sort],
    ] as const)
      if (p !== undefined && !documentFiles.some((e) => e.path === p)) fail(file, `documents.${field}`, `must be a file of kind "documents", got ${show(p)}`);
    const stray = documentFiles.find((e) => !named.includes(e.path));
    if (stray) fail(file, where(stray), 'has kind "documents" but the documents descriptor does not name it');
    if (documents.count > docCount) fail(file, 'documents.count', `must be at most doc_count (${docCount}), got ${documents.count}`);
  } else if (documentFiles.length > 0) fail(file, where(documentFiles[0]), 'has kind "documents" but the manifest has no documents descriptor');

  return { formatVersion, synthetic, model, docCount, dim, storage, tileDocs, files, graph, lexical, documents, vectorTiles, metadataShards, graphShards };
}

function readGraph(g: ObjectReader, docCount: number): GraphDescriptor {
  const out: GraphDescriptor = { degree: g.int('degree', 1), metric: g.literal('metric', ['l2'] as const) };
  if (g.has('entry_points')) {
    const list = g.array('entry_points');
    if (list.length === 0) fail(g.file, g.where('entry_points'), 'must not be empty (leave it out instead)');
    const ids = new Uint32Array(list.length);
    const seen = new Set<number>();
    list.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= docCount) {
        fail(g.file, `${g.where('entry_points')}[${j}]`, `must be a document index below doc_count (${docCount}), got ${show(v)}`);
      }
      if (seen.has(v)) fail(g.file, `${g.where('entry_points')}[${j}]`, `repeats document ${v}`);
      seen.add(v);
      ids[j] = v;
    });
    out.entryPoints = ids;
  }
  return out;
}

/** files[i].chunks; its hashes are checked against the bytes only when a chunk is read (readChunks in chunkHashes.ts). */
function readChunks(f: ObjectReader, kind: FileKind, docCount: number): FileChunks {
  if (kind !== 'vectors' && kind !== 'graph') fail(f.file, f.where('chunks'), `is only for files of kind vectors or graph, this one has kind ${show(kind)}`);
  const c = f.object('chunks');
  const docs = c.int('docs', 1);
  const sha256 = c.array('sha256');
  const want = Math.ceil(docCount / docs);
  if (sha256.length !== want) fail(f.file, c.where('sha256'), `must list ceil(doc_count / docs) = ${want} hashes, got ${sha256.length}`);
  sha256.forEach((h, j) => {
    if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) fail(f.file, `${c.where('sha256')}[${j}]`, `must be 64 lowercase hex digits, got ${show(h)}`);
  });
  return { docs, sha256: sha256 as string[] };
}

function readLexical(l: ObjectReader): LexicalDescriptor {
  return { scheme: l.string('scheme', { nonEmpty: true }), raw: l.obj };
}

/**
 * Shards of one kind, in listed order, must cover docs 0..docCount-1 exactly once, each
 * starting where the previous ended. `expectedBytes` (if given) also checks each size.
 */
function checkCover(
  file: string,
  what: string,
  one: string,
  shards: ShardEntry[],
  docCount: number,
  where: (e: IndexFileEntry) => string,
  expectedBytes: ((e: ShardEntry, last: boolean) => number) | null,
): void {
  if (shards.length === 0) fail(file, 'files', `lists no ${what}; they must cover all ${docCount} documents`);
  let next = 0;
  shards.forEach((e, i) => {
    if (e.firstDoc < next) fail(file, where(e), `first_doc ${e.firstDoc} overlaps the previous ${one}, which ends before doc ${next}`);
    if (e.firstDoc > next) fail(file, where(e), `first_doc ${e.firstDoc} leaves docs ${next}..${e.firstDoc - 1} in no ${one} (list them in document order)`);
    if (expectedBytes) {
      const want = expectedBytes(e, i === shards.length - 1);
      if (e.bytes !== want) fail(file, where(e), `bytes must be ${want} for ${e.docCount} documents, got ${e.bytes}`);
    }
    next = e.firstDoc + e.docCount;
  });
  if (next !== docCount) fail(file, '', `${what} cover ${next} documents (doc counts add up to ${next}), but doc_count is ${docCount}`);
}

/** manifest.json's object (snake_case, as docs/FORMATS.md). */
export function indexManifestObject(m: IndexManifest): Record<string, unknown> {
  const storage = { dtype: m.storage.dtype, stride_words: m.storage.strideWords, ...storageExtrasObject(m.storage) };
  const out: Record<string, unknown> = { format: INDEX_FORMAT, format_version: m.formatVersion };
  if (m.synthetic) out.synthetic = true;
  Object.assign(out, {
    model: { id: m.model.id, sha256: m.model.sha256 },
    doc_count: m.docCount,
    dim: m.dim,
    storage,
    tile_docs: m.tileDocs,
  });
  if (m.graph) out.graph = graphObject(m.graph);
  if (m.lexical) out.lexical = { ...m.lexical.raw, scheme: m.lexical.scheme };
  if (m.documents) out.documents = documentsDescriptorObject(m.documents);
  out.files = m.files.map(fileObject);
  return out;
}

function fileObject(e: IndexFileEntry): Record<string, unknown> {
  const o: Record<string, unknown> = { path: e.path, kind: e.kind, bytes: e.bytes, sha256: e.sha256 };
  if (!isShard(e)) return o;
  Object.assign(o, { first_doc: e.firstDoc, doc_count: e.docCount });
  if (e.chunks) o.chunks = { docs: e.chunks.docs, sha256: [...e.chunks.sha256] };
  return o;
}

function graphObject(g: GraphDescriptor): Record<string, unknown> {
  const o: Record<string, unknown> = { degree: g.degree, metric: g.metric };
  if (g.entryPoints) o.entry_points = Array.from(g.entryPoints);
  return o;
}

/**
 * manifest.json text with a final newline: two-space indented JSON, or compact when the manifest
 * carries chunk hashes (a lazy index's manifest is fetched before the first query and is mostly hashes).
 */
export function serializeIndexManifest(m: IndexManifest): string {
  const lazy = m.files.some((e) => isShard(e) && e.chunks);
  return `${JSON.stringify(indexManifestObject(m), null, lazy ? undefined : 2)}\n`;
}

/** Everything about an index that is not derived from its files' bytes. */
export interface IndexManifestFields {
  model: { id: string; sha256: string };
  dim: number;
  dtype: StorageDtype;
  /** int8 only; one value per dimension, shared by every tile. */
  absmax?: ArrayLike<number>;
  tileDocs: number;
  synthetic?: boolean;
  graph?: GraphDescriptor;
  lexical?: { scheme: string; [key: string]: unknown };
  documents?: DocumentsDescriptor;
}

/** One file of the bundle with its bytes; firstDoc/docCount for vectors, metadata and graph files. */
export interface BundleFileInput {
  path: string;
  kind: FileKind;
  data: Uint8Array;
  firstDoc?: number;
  docCount?: number;
  /** Vectors and graph files of a lazily loadable index (computeChunkHashes in chunkHashes.ts). */
  chunks?: FileChunks;
}

/**
 * A manifest for the given files: byte lengths and hashes are computed, doc_count is the sum
 * of the vector tiles' doc counts, and the result passes validateIndexManifest (or this throws).
 */
export async function buildIndexManifest(fields: IndexManifestFields, files: BundleFileInput[]): Promise<IndexManifest> {
  const entries: Record<string, unknown>[] = [];
  for (const f of files) {
    const e: Record<string, unknown> = { path: f.path, kind: f.kind, bytes: f.data.byteLength, sha256: await sha256Hex(f.data) };
    if (f.kind !== 'lexical' && f.kind !== 'documents') {
      e.first_doc = f.firstDoc;
      e.doc_count = f.docCount;
    }
    if (f.chunks) e.chunks = f.chunks;
    entries.push(e);
  }
  const docCount = files.filter((f) => f.kind === 'vectors').reduce((s, f) => s + (f.docCount ?? 0), 0);
  const storage = { dtype: fields.dtype, stride_words: rowStrideWords(fields.dtype, fields.dim), ...storageExtrasObject(fields) };
  const json: Record<string, unknown> = {
    format: INDEX_FORMAT,
    format_version: INDEX_FORMAT_VERSION,
    model: fields.model,
    doc_count: docCount,
    dim: fields.dim,
    storage,
    tile_docs: fields.tileDocs,
    files: entries,
  };
  if (fields.synthetic) json.synthetic = true;
  if (fields.graph) json.graph = graphObject(fields.graph);
  if (fields.lexical) json.lexical = fields.lexical;
  if (fields.documents) json.documents = documentsDescriptorObject(fields.documents);
  return validateIndexManifest(json);
}

/**
 * Throws unless the index was built for this model: same id, same model.json bytes
 * (`modelJsonSha256` is the SHA-256 of the model.json the client loaded), dim = qnet.dims[0].
 */
export function checkIndexAgainstModel(m: IndexManifest, model: ModelBundle, modelJsonSha256: string, file = MANIFEST_FILE_NAME): void {
  if (m.model.id !== model.id) fail(file, 'model.id', `is ${show(m.model.id)} but the loaded model.json has id ${show(model.id)}`);
  if (m.model.sha256 !== modelJsonSha256) {
    fail(file, 'model.sha256', `is ${m.model.sha256} but the loaded model.json hashes to ${modelJsonSha256}; the index was built for a different model file`);
  }
  if (m.dim !== model.qnet.dims[0]) {
    fail(file, 'dim', `is ${m.dim} but model.json qnet.dims[0] is ${model.qnet.dims[0]}; document vectors must have the q-net's input size`);
  }
}
