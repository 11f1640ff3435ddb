// `index --shards K`: the collection written as K standard bundles and their shard list (shards.json,
// docs/FORMATS.md "Shard list") instead of one bundle. Everything that depends on the whole
// collection is computed once over it, then cut per shard: the documents (documentGroups over all the
// passages; a shard holds whole documents, contiguous, balanced by passage count), the BM25 weights
// (one Lunr index over every document, so idf and average field lengths are the collection's; each
// shard keeps its documents' postings, renumbered), int8's absmax, filters and sort keys. Searched
// together (src/core/bundleUnion.ts) the shards rank exactly as the one bundle of the same input.
// Each shard's own neighbor graph is built over its vectors. Written as one folder through a staging
// folder and a rename, so nothing half-written is ever at --out. Same input and options → same bytes.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from '../../core/formats/index.ts';
import type { DocumentFilters, DocumentSortKeys } from '../../core/formats/facets.ts';
import { COLLECTION_WEIGHTS, MAX_SHARDS, SHARD_LIST_FILE, type ShardListEntry, serializeShardList } from '../../core/formats/shardList.ts';
import type { Passage } from '../../core/ingest/passages.ts';
import { LEXICAL_FIELDS, LEXICAL_SCHEME_CHUNKED, buildLexicalIndex, documentLexicalDocs, type LexicalDoc } from '../../core/lexical.ts';
import { type TermPostings, chunkPostings, lexicalPostings, slicePostings } from '../../core/lexicalChunked.ts';
import { merkleMemberPath, merkleSetObject } from '../../core/formats/index.ts';
import { documentGroups, type DocumentGroups } from '../../core/ranking.ts';
import { corpusWordList } from '../../core/typoTolerance.ts';
import { encodeVectors } from '../../core/vectorStorage.ts';
import { CliError } from '../errors.ts';
import { SHARD_SET } from '../outputPath.ts';
import { type WriteIndexInput, writeDirAtomically, writeIndexFiles } from '../writeIndex.ts';
import { type Encoded, discardWork } from './encode.ts';
import { buildGraph } from './graph.ts';
import type { Ingested } from './ingest.ts';
import type { IndexJob, IndexSummary } from './job.ts';
import { type Stored, shardMetadata, storePassages } from './store.ts';
import { dirSize, indexSummary } from './write.ts';

export { MAX_SHARDS };

/** Refuses --shards with what it cannot be combined with, before any work. */
export function checkShardOptions(job: IndexJob): void {
  const k = job.opts.shards;
  if (k === undefined) return;
  if (job.opts.locality) throw new CliError('--shards with --locality: locality order moves passages across pages; shard without --locality', 2);
  if (job.opts.lexical === 'lunr')
    throw new CliError(
      "--shards with --lexical lunr: a Lunr index's BM25 weights are its own records'; shards keep the collection's weights only as term chunks (--lexical chunked, the default)",
      2,
    );
}

/** Refuses more shards than documents (pages), once the input is read: a shard holds at least one whole document. */
export function checkShardCount(job: IndexJob, passages: Passage[]): void {
  const k = job.opts.shards;
  if (k === undefined) return;
  const documents = new Set(passages.map((p) => p.docId)).size;
  if (k > documents)
    throw new CliError(`--shards ${k}: the input has ${documents} document(s); a shard holds whole documents, so at most ${documents} shards`, 2);
}

/**
 * Documents [bounds[s], bounds[s + 1]) form shard s: each boundary the document boundary nearest to
 * s·N/K passages (the earlier on a tie), every shard holding at least one document.
 */
export function shardBounds(groups: DocumentGroups, k: number): number[] {
  const documents = groups.passages.length;
  const before = [0];
  for (const ps of groups.passages) before.push(before[before.length - 1] + ps.length);
  const total = before[documents];
  const bounds = [0];
  for (let s = 1; s < k; s++) {
    const target = (s * total) / k;
    let best = bounds[s - 1] + 1;
    for (let j = best + 1; j <= documents - (k - s); j++) if (Math.abs(before[j] - target) < Math.abs(before[best] - target)) best = j;
    bounds.push(best);
  }
  bounds.push(documents);
  return bounds;
}

/** The collection's filters and sort keys, documents [first, first + count) only, renumbered from 0. */
function sliceFacets(facets: NonNullable<Stored['facets']>, first: number, count: number): NonNullable<Stored['facets']> {
  const filters: DocumentFilters = new Map();
  for (const [key, values] of facets.filters) {
    const kept = new Map<string, Uint32Array>();
    for (const [value, docs] of values) {
      const mine = docs.filter((d) => d >= first && d < first + count).map((d) => d - first);
      if (mine.length > 0) kept.set(value, mine);
    }
    if (kept.size > 0) filters.set(key, kept);
  }
  const sort: DocumentSortKeys = new Map();
  for (const [key, { numeric, values }] of facets.sort) sort.set(key, { numeric, values: values.slice(first, first + count) });
  return { documents: count, filters, sort };
}

/** One shard's bundle: its passages (in collection order), vectors re-encoded with the collection's absmax, its cut of everything else. */
function shardInput(
  job: IndexJob,
  stored: Stored,
  encoded: Encoded,
  groups: DocumentGroups,
  lexical: { postings: TermPostings; docs: LexicalDoc[] } | null,
  first: number,
  count: number,
): { input: Omit<WriteIndexInput, 'lexical'>; lexical: () => Promise<WriteIndexInput['lexical']>; passages: Passage[]; graph: IndexSummary['graph'] } {
  const { dim, dtype } = job;
  const rows = groups.passages
    .slice(first, first + count)
    .flat()
    .sort((a, b) => a - b);
  const passages = rows.map((p) => stored.passages[p]);
  const absmax = stored.tiles[0].absmax;
  const tiles = [];
  for (let a = 0; a < rows.length; a += job.tileDocs) {
    const part = rows.slice(a, a + job.tileDocs);
    const v = new Float32Array(part.length * dim);
    for (let i = 0; i < part.length; i++) v.set(encoded.vectors.subarray(part[i] * dim, (part[i] + 1) * dim), i * dim);
    tiles.push(encodeVectors(v, part.length, dim, dtype, absmax));
  }
  const metadata = shardMetadata(passages);
  const facets = stored.facets ? sliceFacets(stored.facets, first, count) : undefined;
  const graph = buildGraph(job, { passages, tiles, metadata, locality: null });
  return {
    input: {
      manifestFields: { model: { id: job.model.id, sha256: job.modelJsonSha256 }, tileDocs: job.tileDocs },
      tiles,
      metadata,
      graph: graph.graph,
      ...(facets ? { facets } : {}),
      ...(job.opts.chunkDocs ? { chunkDocs: job.opts.chunkDocs } : {}),
    },
    lexical: async () => {
      if (!lexical) return undefined;
      const { dictionary, chunks, members } = await chunkPostings(slicePostings(lexical.postings, first, count), count);
      const words = corpusWordList(lexical.docs.slice(first, first + count));
      return {
        descriptor: {
          scheme: LEXICAL_SCHEME_CHUNKED,
          fields: [...LEXICAL_FIELDS],
          dictionary: dictionary.path,
          words: words.path,
          chunks: merkleSetObject(chunks),
        },
        files: [dictionary, words],
        members: members.map((data, j) => ({ path: merkleMemberPath(chunks.folder, j), data })),
      };
    },
    passages,
    graph: graph.info,
  };
}

/** The shards and shards.json, into --out through a staging folder; the work folder removed; the run's summary. */
export async function writeShards(job: IndexJob, ingested: Ingested, encoded: Encoded): Promise<IndexSummary> {
  const k = job.opts.shards!;
  const stored = storePassages(job, ingested.passages, encoded);
  const groups = documentGroups(stored.metadata.flat() as Parameters<typeof documentGroups>[0]);
  // The documents as the bundles number them (a record's passage_of may group more than its docId did).
  if (k > groups.passages.length)
    throw new CliError(
      `--shards ${k}: the input has ${groups.passages.length} document(s); a shard holds whole documents, so at most ${groups.passages.length} shards`,
      2,
    );
  const bounds = shardBounds(groups, k);
  let lexical: { postings: TermPostings; docs: LexicalDoc[] } | null = null;
  if (job.opts.lexical !== false) {
    // One Lunr index over every document: its weights hold the collection's idf and average field lengths.
    const docs = documentLexicalDocs(stored.passages, groups);
    lexical = { postings: lexicalPostings(buildLexicalIndex(docs)), docs };
  }
  const entries: ShardListEntry[] = [];
  const sizes: { path: string; documents: number; passages: number; bytes: number }[] = [];
  let lexicalBytes = 0;
  let graphInfo: IndexSummary['graph'] = null;
  await writeDirAtomically(
    job.out,
    job.opts.force ?? false,
    async (tmp) => {
      let firstPassage = 0;
      for (let s = 0; s < k; s++) {
        const first = bounds[s];
        const count = bounds[s + 1] - first;
        const shard = shardInput(job, stored, encoded, groups, lexical, first, count);
        const lex = await shard.lexical();
        const dir = String(s).padStart(5, '0');
        await mkdir(path.join(tmp, dir));
        const manifest = await writeIndexFiles(path.join(tmp, dir), { ...shard.input, ...(lex ? { lexical: lex } : {}) });
        const manifestSha256 = await sha256Hex(new Uint8Array(await readFile(path.join(tmp, dir, 'manifest.json'))));
        entries.push({ path: dir, manifestSha256, firstDocument: first, documents: count, firstPassage, passages: manifest.docCount });
        firstPassage += manifest.docCount;
        lexicalBytes += lex ? lex.files.reduce((n, f) => n + f.data.byteLength, 0) : 0;
        graphInfo = shard.graph;
        sizes.push({ path: dir, documents: count, passages: manifest.docCount, bytes: dirSize(path.join(tmp, dir)) });
      }
      const list = {
        model: { id: job.model.id, sha256: job.modelJsonSha256 },
        documents: groups.passages.length,
        passages: stored.passages.length,
        lexical: lexical ? COLLECTION_WEIGHTS : null,
        shards: entries,
      };
      await writeFile(path.join(tmp, SHARD_LIST_FILE), serializeShardList(list));
    },
    { flag: '--out', inputs: [job.input], log: job.log },
    SHARD_SET,
  );
  await discardWork(encoded);
  const n = stored.passages.length;
  const bundleBytes = dirSize(job.out);
  job.log(
    `wrote ${job.opts.out}: ${k} shard(s) of ${groups.passages.length} documents, ${n} passages (${sizes.map((s) => `${s.path}: ${s.documents} documents, ${s.passages} passages, ${(s.bytes / 1e6).toFixed(2)} MB`).join('; ')}) and ${SHARD_LIST_FILE}`,
  );
  return {
    ...indexSummary(job, ingested, encoded, {
      out: job.out,
      bundleBytes,
      passages: n,
      graph: graphInfo,
      locality: null,
      lexical: lexical ? { scheme: LEXICAL_SCHEME_CHUNKED, bytes: lexicalBytes } : null,
    }),
    shards: sizes,
  };
}
