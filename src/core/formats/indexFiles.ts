// The data files of an index bundle: vector tiles, metadata shards, graph shards.
// Call verifyFile (length + SHA-256) first; these check structure and size.
import { STORAGE_CODECS } from '../storageCodecs.ts';
import type { EncodedVectors } from '../vectorStorage.ts';
import { fail, isObject, parseJsonText, show, type JsonObject } from './fields.ts';
import { GRAPH_NO_NEIGHBOR, type IndexManifest, type ShardEntry } from './indexManifest.ts';

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function expectKind(entry: ShardEntry, kind: ShardEntry['kind']): void {
  if (entry.kind !== kind) fail(entry.path, '', `is listed with kind ${show(entry.kind)}, not ${show(kind)}`);
}

function checkSize(entry: ShardEntry, got: number, want: number, unit: string): void {
  if (got !== want) fail(entry.path, '', `${got < want ? 'truncated' : 'oversized'}: expected ${want} bytes (${unit}), got ${got}`);
}

/**
 * A vector tile as EncodedVectors (vectorStorage.ts): doc_count × stride_words little-endian
 * u32 words and nothing else. The words alias `bytes` when it is 4-byte aligned.
 */
export function parseVectorTile(entry: ShardEntry, bytes: Uint8Array, manifest: IndexManifest): EncodedVectors {
  expectKind(entry, 'vectors');
  // Tiles are little-endian words viewed in place; every WebGPU host is little-endian.
  if (!HOST_IS_LITTLE_ENDIAN) fail(entry.path, '', 'cannot be read on a big-endian host');
  const { dtype, strideWords, absmax } = manifest.storage;
  const n = entry.docCount;
  checkSize(entry, bytes.byteLength, n * strideWords * 4, `${n} documents × ${strideWords} words × 4`);
  const out: EncodedVectors = { dtype, d: manifest.dim, n, strideWords, words: wordsOf(bytes) };
  if (absmax) out.absmax = absmax;
  return out;
}

/**
 * Scans a tile for values a writer must never emit: NaN or infinite floats (one would poison
 * every top-k), the int8 code -128 (outside the symmetric -127..127 range), non-zero padding.
 * `firstDoc` only makes the message point at the index-wide document number.
 */
export function checkVectorTileValues(file: string, tile: EncodedVectors, firstDoc = 0): void {
  STORAGE_CODECS[tile.dtype].checkValues(tile, (r, dim, problem) =>
    fail(file, '', dim === null ? `doc ${firstDoc + r}: ${problem}` : `doc ${firstDoc + r} dimension ${dim} ${problem}`),
  );
}

/** One document's metadata: what a result shows. Extra, free-form fields go under `fields`. */
export interface DocMetadata {
  id: string;
  title: string;
  /** "" when the document has no URL. */
  url: string;
  /** The document text (or the part of it used for snippets). */
  text: string;
  fields?: JsonObject;
}

const RECORD_KEYS = new Set(['id', 'title', 'url', 'text', 'fields']);

/** Checks one metadata record; `file` and `path` name it in errors. */
export function validateDocRecord(v: unknown, file: string, path: string): DocMetadata {
  if (!isObject(v)) fail(file, path, `must be an object, got ${show(v)}`);
  for (const k of Object.keys(v)) {
    if (!RECORD_KEYS.has(k)) fail(file, path, `has unknown key ${show(k)}; put extra fields under "fields"`);
  }
  const str = (k: 'id' | 'title' | 'url' | 'text'): string => {
    const s = v[k];
    if (typeof s !== 'string') fail(file, `${path}.${k}`, s === undefined ? 'is missing' : `must be a string, got ${show(s)}`);
    return s;
  };
  const rec: DocMetadata = { id: str('id'), title: str('title'), url: str('url'), text: str('text') };
  if (rec.id.length === 0) fail(file, `${path}.id`, 'must not be empty');
  if (v.fields !== undefined) {
    if (!isObject(v.fields)) fail(file, `${path}.fields`, `must be an object, got ${show(v.fields)}`);
    rec.fields = v.fields;
  }
  return rec;
}

/** A metadata shard: a JSON array of exactly entry.docCount records, in document order. */
export function parseMetadataShard(entry: ShardEntry, input: string | Uint8Array): DocMetadata[] {
  expectKind(entry, 'metadata');
  const json = parseJsonText(input, entry.path);
  if (!Array.isArray(json)) fail(entry.path, '', `must be a JSON array of document records, got ${show(json)}`);
  if (json.length !== entry.docCount) fail(entry.path, '', `must hold doc_count (${entry.docCount}) records, got ${json.length}`);
  const seen = new Map<string, number>();
  return json.map((v, i) => {
    const rec = validateDocRecord(v, entry.path, `[${i}]`);
    const prev = seen.get(rec.id);
    if (prev !== undefined) fail(entry.path, `[${i}].id`, `${show(rec.id)} repeats [${prev}].id`);
    seen.set(rec.id, i);
    return rec;
  });
}

/**
 * A graph shard: doc_count rows of `degree` little-endian u32 neighbor indices (nearest first),
 * each < doc_count, padded at the row's end with 0xFFFFFFFF.
 */
export function parseGraphShard(entry: ShardEntry, bytes: Uint8Array, manifest: IndexManifest): Uint32Array {
  expectKind(entry, 'graph');
  if (!manifest.graph) fail(entry.path, '', 'is a graph shard but the manifest has no graph descriptor');
  if (!HOST_IS_LITTLE_ENDIAN) fail(entry.path, '', 'cannot be read on a big-endian host');
  const { degree } = manifest.graph;
  checkSize(entry, bytes.byteLength, entry.docCount * degree * 4, `${entry.docCount} documents × degree ${degree} × 4`);
  const words = wordsOf(bytes);
  checkGraphRows(entry.path, words, entry.firstDoc, degree, manifest.docCount);
  return words;
}

/** Graph rows (a whole shard, or a chunk of one read lazily) whose first row is document `firstDoc`. */
export function checkGraphRows(file: string, words: Uint32Array, firstDoc: number, degree: number, docCount: number): void {
  for (let r = 0; r < words.length / degree; r++) {
    let padded = false;
    for (let k = 0; k < degree; k++) {
      const v = words[r * degree + k];
      if (v === GRAPH_NO_NEIGHBOR) padded = true;
      else if (padded) fail(file, '', `doc ${firstDoc + r}: neighbor ${k} follows padding (0xFFFFFFFF goes only at the end of a row)`);
      else if (v >= docCount) fail(file, '', `doc ${firstDoc + r}: neighbor ${k} is ${v}, beyond doc_count ${docCount}`);
    }
  }
}

/** Little-endian u32 words of `bytes` (a multiple of 4 long): a view when 4-byte aligned, else a copy. */
export function wordsOf(bytes: Uint8Array): Uint32Array {
  const n = bytes.byteLength >> 2;
  return bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, n) : new Uint32Array(bytes.slice().buffer, 0, n);
}

/** The graph shards (in document order, as read) as one array of doc_count rows: what a graph walk takes. */
export function joinGraphShards(manifest: IndexManifest, shards: Uint32Array[]): Uint32Array {
  if (shards.length === 1) return shards[0];
  const degree = manifest.graph?.degree ?? 0;
  const rows = new Uint32Array(manifest.docCount * degree);
  for (const [i, s] of shards.entries()) rows.set(s, manifest.graphShards[i].firstDoc * degree);
  return rows;
}
