// The shard list (docs/FORMATS.md, "Shard list"): `shards.json` beside K index bundles cut from one
// collection (`hypencoder-web index --shards K`). It names each shard's folder and the SHA-256 of its
// manifest.json (so a shard swapped or edited after the list was written is refused: every other
// file of a shard is covered by its manifest), the model every shard was encoded with, and where each
// shard's documents and passages sit in the collection. The shards' BM25 weights were computed once
// over the whole collection, so the shards searched together rank as the one bundle would.
import { MAX_JSON_FILE_BYTES, ObjectReader, fail, parseJsonText, readDescriptor, show } from './fields.ts';

export const SHARD_LIST_FILE = 'shards.json';
export const SHARD_LIST_FORMAT = 'hypencoder-shards';
const FORMAT = { tag: SHARD_LIST_FORMAT, supported: 1, hint: { 'hypencoder-index': 'this is an index manifest, not a shard list' } };
/** Shards one list may name: far more than one browser searches at once, few enough to bound the work of reading a list. */
export const MAX_SHARDS = 4096;
/** What a shard list's `lexical` says when the shards' BM25 weights hold the whole collection's statistics. */
export const COLLECTION_WEIGHTS = 'collection' as const;

export interface ShardListEntry {
  /** The shard's folder, relative to the list. */
  path: string;
  /** SHA-256 of the shard's manifest.json. */
  manifestSha256: string;
  firstDocument: number;
  documents: number;
  firstPassage: number;
  passages: number;
}

export interface ShardList {
  model: { id: string; sha256: string };
  documents: number;
  passages: number;
  /** "collection": the shards' lexical weights were computed over all of them (absent: no lexical index). */
  lexical: typeof COLLECTION_WEIGHTS | null;
  shards: ShardListEntry[];
}

export function serializeShardList(list: ShardList): Uint8Array {
  const json = {
    format: SHARD_LIST_FORMAT,
    format_version: 1,
    model: list.model,
    documents: list.documents,
    passages: list.passages,
    ...(list.lexical ? { lexical: list.lexical } : {}),
    shards: list.shards.map((s) => ({
      path: s.path,
      manifest_sha256: s.manifestSha256,
      first_document: s.firstDocument,
      documents: s.documents,
      first_passage: s.firstPassage,
      passages: s.passages,
    })),
  };
  return new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`);
}

/** shards.json, checked: format first, then every field; shards in collection order, contiguous, their counts adding up. */
export function parseShardList(bytes: Uint8Array, file = SHARD_LIST_FILE): ShardList {
  const { r } = readDescriptor(parseJsonText(bytes, file), file, FORMAT);
  const m = r.object('model');
  const model = { id: m.string('id', { nonEmpty: true }), sha256: m.sha256('sha256') };
  const documents = r.int('documents', 1);
  const passages = r.int('passages', 1);
  let lexical: ShardList['lexical'] = null;
  if (r.has('lexical')) lexical = r.literal('lexical', [COLLECTION_WEIGHTS] as const);
  const raw = r.array('shards');
  if (raw.length === 0 || raw.length > MAX_SHARDS) fail(file, 'shards', `must list 1 … ${MAX_SHARDS} shards, got ${raw.length}`);
  const paths = new Set<string>();
  let nextDocument = 0;
  let nextPassage = 0;
  const shards = raw.map((v, i) => {
    const s = ObjectReader.of(file, `shards[${i}]`, v);
    const entry: ShardListEntry = {
      path: s.relPath('path'),
      manifestSha256: s.sha256('manifest_sha256'),
      firstDocument: s.int('first_document'),
      documents: s.int('documents', 1),
      firstPassage: s.int('first_passage'),
      passages: s.int('passages', 1),
    };
    if (paths.has(entry.path)) fail(file, s.where('path'), `${show(entry.path)} is listed twice`);
    paths.add(entry.path);
    if (entry.firstDocument !== nextDocument)
      fail(file, s.where('first_document'), `must be ${nextDocument} (where shard ${i - 1} ends), got ${entry.firstDocument}`);
    if (entry.firstPassage !== nextPassage)
      fail(file, s.where('first_passage'), `must be ${nextPassage} (where shard ${i - 1} ends), got ${entry.firstPassage}`);
    if (entry.passages < entry.documents)
      fail(file, s.where('passages'), `is ${entry.passages}, fewer than the shard's ${entry.documents} documents (each has a passage)`);
    nextDocument += entry.documents;
    nextPassage += entry.passages;
    return entry;
  });
  if (nextDocument !== documents) fail(file, 'documents', `is ${documents} but the shards hold ${nextDocument}`);
  if (nextPassage !== passages) fail(file, 'passages', `is ${passages} but the shards hold ${nextPassage}`);
  return { model, documents, passages, lexical, shards };
}

/**
 * Checks one shard, as opened, against its entry in the list: the manifest's SHA-256 (`version`, the
 * bundle reader's), the list's model, the passages and documents the list says it holds.
 */
export function checkShardAgainstList(
  list: ShardList,
  i: number,
  opened: { manifest: { model: { id: string; sha256: string }; docCount: number }; version: string },
  /** Its documents (undefined: not known yet). */
  documents: number | undefined,
  file = SHARD_LIST_FILE,
): void {
  const s = list.shards[i];
  const where = `shards[${i}] ${s.path}`;
  if (opened.version !== s.manifestSha256)
    fail(
      file,
      `${where}/manifest.json`,
      `hashes to ${opened.version}, but the list names ${s.manifestSha256}: the shard was changed or replaced after the list was written`,
    );
  const m = opened.manifest.model;
  if (m.id !== list.model.id || m.sha256 !== list.model.sha256)
    fail(
      file,
      where,
      `was built with model ${show(m.id)} (${m.sha256.slice(0, 12)}…), but the list names ${show(list.model.id)} (${list.model.sha256.slice(0, 12)}…)`,
    );
  if (opened.manifest.docCount !== s.passages) fail(file, where, `holds ${opened.manifest.docCount} passages, but the list says ${s.passages}`);
  if (documents !== undefined && documents !== s.documents) fail(file, where, `holds ${documents} documents, but the list says ${s.documents}`);
}

/** A shard list read from a byte source over its folder (the browser's HTTP source), checked. */
export async function readShardListFrom(source: { readJson(path: string, maxBytes: number): Promise<Uint8Array> }, file = SHARD_LIST_FILE): Promise<ShardList> {
  return parseShardList(await source.readJson(SHARD_LIST_FILE, MAX_JSON_FILE_BYTES), file);
}
