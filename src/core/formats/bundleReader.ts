// The one reader of model and index bundles, over a byte source: local files (src/cli/readBundle.ts),
// HTTP with the IndexedDB cache (src/worker/httpSource.ts), HTTP Range for a lazy index
// (src/worker/rangeFetch.ts, through readChunks in chunkHashes.ts). Every listed file it returns has
// the length and SHA-256 its descriptor states, and has been parsed and validated (docs/FORMATS.md).
import type { EncodedVectors } from '../vectorStorage.ts';
import { MAX_JSON_FILE_BYTES } from './fields.ts';
import { verifyFile, type FileRef } from './fileRef.ts';
import { sha256Hex } from './hash.ts';
import { checkVectorTileValues, parseGraphShard, parseMetadataShard, parseVectorTile, type DocMetadata } from './indexFiles.ts';
import {
  FILE_KINDS,
  MANIFEST_FILE_NAME,
  checkIndexAgainstModel,
  parseIndexManifest,
  type FileKind,
  type IndexFileEntry,
  type IndexManifest,
} from './indexManifest.ts';
import { MODEL_FILE_NAME, parseModelJson, type ModelBundle } from './modelBundle.ts';
import { merkleMemberPath, parseDocumentMap, type DocumentGroups, type MerkleSetDescriptor } from './documents.ts';
import { parseFiltersFile, parseSortFile, type DocumentFilters, type DocumentSortKeys } from './facets.ts';
import { parseFragment } from './fragments.ts';
import { gunzipBounded } from './gzip.ts';
import { verifyMerkleMember } from './merkle.ts';

/** Where one bundle folder's bytes come from; paths are relative to that folder. */
export interface ByteSource {
  /** A descriptor (model.json, manifest.json), whose size nothing states: refused past `maxBytes`. */
  readJson(path: string, maxBytes: number): Promise<Uint8Array>;
  /** An unlisted file whose size only a bound states (a Merkle set's member): refused past `maxBytes`. */
  readUpTo(path: string, maxBytes: number): Promise<Uint8Array>;
  /** A listed file, refused unless it has exactly `ref.bytes` (reading no more than that); the reader checks the hash. */
  readFile(ref: FileRef): Promise<Uint8Array>;
  /** Bytes [start, end) of a listed file: what a lazily loaded index needs. */
  readRange?(ref: FileRef, start: number, end: number): Promise<Uint8Array>;
  /** Verified copies kept between loads (the browser's IndexedDB); never used unverified. */
  kept?: KeptFiles;
}

export interface KeptFiles {
  /** The descriptor was read and checked; its SHA-256 names this version of the bundle (other versions' copies may go). */
  useVersion(version: string): Promise<void>;
  /** Keys are file paths, or `path#j` for chunk j of a lazily loaded file. */
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
}

/** Told of each file as it is read and verified: its size, and whether it came from the kept copies. */
export type OnRead<R extends FileRef = FileRef> = (ref: R, bytes: number, fromKept: boolean) => void;

/** A listed file's bytes, checked against its length and SHA-256: a kept copy that verifies, else from the source (then kept). */
export async function readVerified<R extends FileRef>(source: ByteSource, ref: R, onRead?: OnRead<R>): Promise<Uint8Array> {
  const kept = await source.kept?.get(ref.path);
  if (kept) {
    try {
      await verifyFile(ref, kept);
      onRead?.(ref, kept.byteLength, true);
      return kept;
    } catch {
      // a damaged copy is read again from the source, never used
    }
  }
  const bytes = await source.readFile(ref);
  await verifyFile(ref, bytes);
  await source.kept?.put(ref.path, bytes);
  onRead?.(ref, bytes.byteLength, false);
  return bytes;
}

/** The source could not deliver a file (offline, missing, over its bound): unlike a failed verification, another copy of the same data may do. */
export class SourceError extends Error {}

/**
 * Member j of a Merkle set (merkle.ts): a kept copy that verifies, else read (at most the set's
 * max_bytes) and verified, then kept; returns its payload.
 */
export async function readMember(
  source: ByteSource,
  set: MerkleSetDescriptor,
  j: number,
  onRead?: (path: string, bytes: number, fromKept: boolean) => void,
): Promise<Uint8Array> {
  const path = merkleMemberPath(set.folder, j);
  const kept = await source.kept?.get(path);
  if (kept) {
    try {
      const payload = await verifyMerkleMember(kept, j, set.count, set.root, path);
      onRead?.(path, kept.byteLength, true);
      return payload;
    } catch {
      // a damaged copy is read again from the source, never used
    }
  }
  let bytes: Uint8Array;
  try {
    bytes = await source.readUpTo(path, set.maxBytes);
  } catch (e) {
    throw new SourceError((e as Error).message);
  }
  const payload = await verifyMerkleMember(bytes, j, set.count, set.root, path);
  await source.kept?.put(path, bytes);
  onRead?.(path, bytes.byteLength, false);
  return payload;
}

/** The documents part's map (documents.ts), verified and checked against the manifest's counts. */
export async function readDocumentMap(source: ByteSource, manifest: IndexManifest, onRead?: OnRead<IndexFileEntry>): Promise<DocumentGroups> {
  const d = manifest.documents;
  if (!d) throw new Error('manifest.json: this index has no documents part (written before 2026-12-03); rebuild it for per-hit fragments');
  const entry = manifest.files.find((e) => e.path === d.map)!;
  return parseDocumentMap(await readVerified(source, entry, onRead), d.count, manifest.docCount, entry.path);
}

/** The documents' filter values (facets.ts), verified; null when the index has none. */
export async function readDocumentFilters(source: ByteSource, manifest: IndexManifest, onRead?: OnRead<IndexFileEntry>): Promise<DocumentFilters | null> {
  const path = manifest.documents?.filters;
  if (!path) return null;
  const entry = manifest.files.find((e) => e.path === path)!;
  return parseFiltersFile(await readVerified(source, entry, onRead), manifest.documents!.count, path);
}

/** The documents' sort values (facets.ts), verified; null when the index has none. */
export async function readDocumentSort(source: ByteSource, manifest: IndexManifest, onRead?: OnRead<IndexFileEntry>): Promise<DocumentSortKeys | null> {
  const path = manifest.documents?.sort;
  if (!path) return null;
  const entry = manifest.files.find((e) => e.path === path)!;
  return parseSortFile(await readVerified(source, entry, onRead), manifest.documents!.count, path);
}

/** Document j's passage records (its fragment), verified against the set's root and checked against the map. */
export async function readFragment(
  source: ByteSource,
  manifest: IndexManifest,
  groups: DocumentGroups,
  j: number,
  onRead?: (path: string, bytes: number, fromKept: boolean) => void,
): Promise<Map<number, DocMetadata>> {
  const set = manifest.documents!.fragments;
  const path = merkleMemberPath(set.folder, j);
  const json = await gunzipBounded(await readMember(source, set, j, onRead), set.maxTextBytes, path);
  return parseFragment(json, j, groups, path);
}

export interface LoadedModel {
  model: ModelBundle;
  /** SHA-256 of model.json's bytes: what an index's model.sha256 must equal. */
  modelJsonSha256: string;
}

/** model.json, parsed and validated; the files it lists are not read. */
export async function openModelBundle(source: ByteSource): Promise<LoadedModel> {
  const bytes = await source.readJson(MODEL_FILE_NAME, MAX_JSON_FILE_BYTES);
  const model = parseModelJson(bytes);
  const modelJsonSha256 = await sha256Hex(bytes);
  await source.kept?.useVersion(modelJsonSha256);
  return { model, modelJsonSha256 };
}

/** model.json and every file it lists, each checked against its length and hash. */
export async function readModelBundle(source: ByteSource): Promise<LoadedModel> {
  const loaded = await openModelBundle(source);
  const files = loaded.model.encoders?.files;
  if (files) for (const ref of [files.queryEncoder, files.docEncoder, files.vocab]) await readVerified(source, ref);
  return loaded;
}

export interface OpenedIndex {
  manifest: IndexManifest;
  /** SHA-256 of manifest.json's bytes: this version of the index. */
  version: string;
  /** Size of manifest.json. */
  jsonBytes: number;
}

/** manifest.json, parsed and validated; with `model`, also that the index was built for that model. */
export async function openIndexBundle(source: ByteSource, opts: { model?: LoadedModel } = {}): Promise<OpenedIndex> {
  const bytes = await source.readJson(MANIFEST_FILE_NAME, MAX_JSON_FILE_BYTES);
  const manifest = parseIndexManifest(bytes);
  if (opts.model) checkIndexAgainstModel(manifest, opts.model.model, opts.model.modelJsonSha256);
  const version = await sha256Hex(bytes);
  await source.kept?.useVersion(version);
  return { manifest, version, jsonBytes: bytes.byteLength };
}

export interface IndexFiles {
  /** In document order; empty when vectors were not asked for (likewise below). */
  tiles: EncodedVectors[];
  /** All documents' metadata, in document order. */
  metadata: DocMetadata[];
  /** The graph shards' rows, in document order. */
  graph: Uint32Array[];
  /** The lexical files' verified bytes by path, for the scheme's reader (lexicalBundle.ts), so they are not read twice. */
  lexical: Map<string, Uint8Array>;
}

/**
 * The index's files of the given kinds (default all), in the manifest's order of kinds: vector tiles
 * (and their values), metadata shards (ids unique across shards), graph shards, lexical files
 * (length and hash only: v1 fixes no structure for them, and their scheme's reader parses them).
 */
export async function readIndexFiles(
  source: ByteSource,
  manifest: IndexManifest,
  opts: { kinds?: readonly FileKind[]; onRead?: OnRead<IndexFileEntry> } = {},
): Promise<IndexFiles> {
  const kinds = new Set(opts.kinds ?? FILE_KINDS);
  const read = (e: IndexFileEntry) => readVerified(source, e, opts.onRead);
  const out: IndexFiles = { tiles: [], metadata: [], graph: [], lexical: new Map() };
  if (kinds.has('vectors')) {
    for (const e of manifest.vectorTiles) {
      const tile = parseVectorTile(e, await read(e), manifest);
      checkVectorTileValues(e.path, tile, e.firstDoc);
      out.tiles.push(tile);
    }
  }
  if (kinds.has('metadata')) {
    const ids = new Map<string, string>();
    for (const e of manifest.metadataShards) {
      parseMetadataShard(e, await read(e)).forEach((r, i) => {
        const prev = ids.get(r.id);
        if (prev !== undefined) throw new Error(`${e.path}: [${i}].id ${JSON.stringify(r.id)} repeats a document id of ${prev}`);
        ids.set(r.id, e.path);
        out.metadata.push(r);
      });
    }
  }
  if (kinds.has('graph')) for (const e of manifest.graphShards) out.graph.push(parseGraphShard(e, await read(e), manifest));
  if (kinds.has('lexical')) for (const e of manifest.files) if (e.kind === 'lexical') out.lexical.set(e.path, await read(e));
  return out;
}
