// The chunked lexical index (scheme bm25-chunked-v2, src/core/lexicalChunked.ts): the same BM25 as
// the Lunr index it is cut from (a small corpus and, where ../shared/data/cranfield is present, all
// Cranfield queries), only the query's chunks read through the bundle reader, and damaged chunks or
// dictionaries refused with the file (and field) named.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeSearchEngine } from '../src/cli/nodeEngine.ts';
import { verifyIndex } from '../src/cli/searchCommands.ts';
import { writeIndexBundle } from '../src/cli/writeIndex.ts';
import { merkleMemberPath, merkleSetObject, openIndexBundle, readMember, readVerified, type DocMetadata } from '../src/core/formats/index.ts';
import { LEXICAL_FIELDS, LEXICAL_SCHEME_CHUNKED, buildLexicalIndex, lexicalSearch, type LexicalDoc, type LexicalHit } from '../src/core/lexical.ts';
import { openLexicalIndex } from '../src/core/lexicalBundle.ts';
import {
  ChunkedLexicalIndex,
  LEXICAL_DICTIONARY_FILE,
  chunkLexicalIndex,
  parseLexicalChunk,
  parseLexicalDictionary,
  type ChunkedLexicalFiles,
} from '../src/core/lexicalChunked.ts';
import { verifyMerkleMember } from '../src/core/formats/merkle.ts';
import { encodeVectors } from '../src/core/vectorStorage.ts';
import { MemorySource } from './helpers/memorySource.ts';
import { wordDrawer } from './helpers/wordCorpus.ts';

const WORDS =
  'wing lift drag flow heat boundary layer shock pressure mach supersonic laminar turbulent nozzle panel flutter buckling cylinder shell plate'.split(' ');
function smallCorpus(n: number): LexicalDoc[] {
  const { rnd, draw: words } = wordDrawer(WORDS, 7);
  return Array.from({ length: n }, (_, i) => ({ title: `${words(2)} ${i}`, text: `${words(5 + Math.floor(rnd() * 60))} item${i % 13}` }));
}

/** A chunked index over in-memory files, loading (and verifying against the set's root) every chunk it is asked for; `members` replaces the written chunk files. */
function chunked(files: ChunkedLexicalFiles, members = files.members): ChunkedLexicalIndex {
  const dict = parseLexicalDictionary(files.dictionary.data, LEXICAL_DICTIONARY_FILE, files.chunks);
  return new ChunkedLexicalIndex(dict, (j) =>
    verifyMerkleMember(members[j], j, files.chunks.count, files.chunks.root, merkleMemberPath(files.chunks.folder, j)),
  );
}

/**
 * The two rankings agree: the same documents match, each score equal up to rounding (the chunked
 * index sums a document's terms in dictionary order, Lunr in its term-number order), and the top k
 * is the same list except where scores tie (equal up to that rounding).
 */
function expectSameRanking(want: LexicalHit[], got: LexicalHit[], k: number, query: string): void {
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
  expect(got.length, query).toBe(want.length);
  const score = new Map(got.map((h) => [h.doc, h.score]));
  for (const h of want) expect(close(score.get(h.doc)!, h.score), `${query}: doc ${h.doc}`).toBe(true);
  for (let i = 0; i < Math.min(k, want.length); i++) {
    if (got[i].doc !== want[i].doc) expect(close(got[i].score, want[i].score), `${query}: rank ${i}`).toBe(true);
  }
}

describe('bm25-chunked-v2 ranks as the Lunr index it is cut from', () => {
  it('on a small corpus cut into many chunks, reading only the chunks of the query terms', async () => {
    const docs = smallCorpus(300);
    const lunrIndex = buildLexicalIndex(docs);
    const files = await chunkLexicalIndex(lunrIndex, docs.length, 256);
    const read: number[] = [];
    const dict = parseLexicalDictionary(files.dictionary.data, LEXICAL_DICTIONARY_FILE, files.chunks);
    expect(dict.chunks.count).toBeGreaterThan(5);
    const index = new ChunkedLexicalIndex(dict, async (j) => {
      read.push(j);
      return verifyMerkleMember(files.members[j], j, files.chunks.count, files.chunks.root, 'c');
    });
    for (const q of ['shock wave', 'laminar flow over a flat plate', 'the', 'item7 item7 nozzle', 'flutter of panels and shells', 'zebra']) {
      await index.prepare(q);
      expectSameRanking(lexicalSearch(lunrIndex, q), index.hits(q), 10, q);
    }
    expect(lexicalSearch(lunrIndex, 'the')).toEqual([]);
    // 'shock wave' reads shock's chunk (and wave's, the chunk where wave would be), never all of them
    expect(new Set(read).size).toBeLessThan(dict.chunks.count);
    const fresh = chunked(files);
    expect(() => fresh.hits('shock')).toThrow(/not loaded/);
  });

  const cranfield = join(__dirname, '..', '..', 'shared', 'data', 'cranfield');
  it.skipIf(!existsSync(join(cranfield, 'corpus.jsonl')))('on Cranfield: every query, every match, the top 10 unchanged up to ties', async () => {
    const docs = readFileSync(join(cranfield, 'corpus.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LexicalDoc);
    const queries = readFileSync(join(cranfield, 'queries.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { text: string }).text);
    expect(queries.length).toBe(225);
    const lunrIndex = buildLexicalIndex(docs);
    const index = chunked(await chunkLexicalIndex(lunrIndex, docs.length));
    await index.prepareAll();
    for (const q of queries) expectSameRanking(lexicalSearch(lunrIndex, q), index.hits(q), 10, q);
  });
});

describe('a bundle with a chunked lexical index', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'hypencoder-lexchunk-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function writeBundle(): Promise<{ dir: string; docs: LexicalDoc[] }> {
    const docs = smallCorpus(120);
    const metadata: DocMetadata[] = docs.map((d, i) => ({ id: `d${i}`, title: d.title, text: d.text, url: `https://example.org/${i}`, fields: {} }));
    const tiles = [encodeVectors(new Float32Array(120 * 4).fill(0.5), 120, 4, 'f16')];
    const { dictionary, chunks, members } = await chunkLexicalIndex(buildLexicalIndex(docs), docs.length, 512);
    const dir = join(root, 'idx');
    await writeIndexBundle(dir, {
      manifestFields: { model: { id: 'm', sha256: 'd'.repeat(64) } },
      tiles,
      metadata: [metadata],
      lexical: {
        descriptor: { scheme: LEXICAL_SCHEME_CHUNKED, fields: [...LEXICAL_FIELDS], dictionary: dictionary.path, chunks: merkleSetObject(chunks) },
        files: [dictionary],
        members: members.map((data, j) => ({ path: merkleMemberPath(chunks.folder, j), data })),
      },
    });
    return { dir, docs };
  }

  it('is searched by the Node engine as Lunr ranks, accepted by verify, and read a query at a time through the bundle reader', async () => {
    const { dir, docs } = await writeBundle();
    const lunrIndex = buildLexicalIndex(docs);
    const engine = await NodeSearchEngine.open(dir, null);
    const r = await engine.search('turbulent boundary layer', 'lexical', 5);
    expect(r.hits.map((h) => h.id)).toEqual(
      lexicalSearch(lunrIndex, 'turbulent boundary layer')
        .slice(0, 5)
        .map((h) => `d${h.doc}`),
    );
    expect((await verifyIndex(dir)).message).toMatch(/lexical bm25-chunked-v2; all \d+ files match/);

    const source = await MemorySource.of(dir);
    const { manifest } = await openIndexBundle(source);
    const opened = await openLexicalIndex(
      manifest,
      (e) => readVerified(source, e),
      (set, j) => readMember(source, set, j),
    );
    // manifest.json lists the dictionary only: its size does not grow with the chunks
    expect(manifest.files.filter((e) => e.path.startsWith('lexical/')).map((e) => e.path)).toEqual([LEXICAL_DICTIONARY_FILE]);
    await (opened.index as ChunkedLexicalIndex).prepare('shock');
    const lexicalReads = source.reads.filter((x) => x.includes('lexical/'));
    expect(lexicalReads).toEqual([`file ${LEXICAL_DICTIONARY_FILE}`, expect.stringMatching(/^upto lexical\/chunks\/\d{5}\.bin$/)]);
    expect((opened.index as ChunkedLexicalIndex).dictionary.chunks.count).toBeGreaterThan(3);
  });

  it('refuses a corrupted chunk, naming the file, at search and at verify', async () => {
    const { dir } = await writeBundle();
    const engine = await NodeSearchEngine.open(dir, null);
    const index = (engine as unknown as { lexicalRanker: { index: ChunkedLexicalIndex } }).lexicalRanker.index;
    const j = index.chunkOf('shock');
    const file = merkleMemberPath(index.dictionary.chunks.folder, j);
    const bytes = await readFile(join(dir, file));
    bytes[bytes.length - 1] ^= 1;
    await writeFile(join(dir, file), bytes);
    await expect(engine.search('shock', 'lexical', 3)).rejects.toThrow(new RegExp(`${file}.*SHA-256|SHA-256.*${file}`));
    await expect(verifyIndex(dir)).rejects.toThrow(new RegExp(file));
  });

  it('refuses a malformed dictionary or chunk, naming the file and the field', async () => {
    const files = await chunkLexicalIndex(buildLexicalIndex(smallCorpus(50)), 50, 256);
    const dict = JSON.parse(new TextDecoder().decode(files.dictionary.data));
    const parse = (d: unknown) => parseLexicalDictionary(new TextEncoder().encode(JSON.stringify(d)), LEXICAL_DICTIONARY_FILE, files.chunks);
    expect(() => parse({ ...dict, format_version: 3 })).toThrow(/^lexical\/dictionary\.json: format_version 3 is newer than this client supports/);
    expect(() => parse({ ...dict, documents: -1 })).toThrow(/^lexical\/dictionary\.json: documents must be an integer >= 1/);
    expect(() => parse({ ...dict, fields: ['text'] })).toThrow(/^lexical\/dictionary\.json: fields must be \["title","text"\]/);
    const swapped = [dict.first_terms[1], dict.first_terms[0], ...dict.first_terms.slice(2)];
    expect(() => parse({ ...dict, first_terms: swapped })).toThrow(/^lexical\/dictionary\.json: first_terms\[1\] .* must come after first_terms\[0\]/);
    expect(() => parse({ ...dict, first_terms: [...dict.first_terms, 'zzzzz'] })).toThrow(
      /^lexical\/dictionary\.json: first_terms lists \d+ chunks, but manifest.json's lexical.chunks.count is \d+/,
    );
    expect(() => parse({ ...dict, first_terms: [''] })).toThrow(/^lexical\/dictionary\.json: first_terms\[0\] must be a non-empty string/);
    expect(() => parse({ ...dict, first_terms: [] })).toThrow(/^lexical\/dictionary\.json: first_terms must not be empty/);

    const index = chunked(files);
    // Damaged payloads with a proof that still verifies them (a bug in a writer, not corruption in transit): the parser names the file.
    const remade = async (payload: Uint8Array) => {
      const { buildMerkleSet } = await import('../src/core/formats/merkle.ts');
      const payloads = files.members.map((m, j) => (j === 0 ? payload : m.subarray(0, 0)));
      const set = await buildMerkleSet(payloads);
      return chunked({ ...files, chunks: { ...files.chunks, root: set.root } }, set.members);
    };
    const chunk = await verifyMerkleMember(files.members[0], 0, files.chunks.count, files.chunks.root, 'c');
    const cut = await remade(chunk.subarray(0, chunk.length - 1));
    await expect(cut.prepareAll()).rejects.toThrow(/^lexical\/chunks\/00000\.bin: ends inside/);
    expect(index.documents).toBe(50);
    const longer = await remade(Uint8Array.from([...chunk, 0]));
    await expect(longer.prepareAll()).rejects.toThrow(/^lexical\/chunks\/00000\.bin: 1 bytes after the last term/);
    const sixByteCount = await remade(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]));
    await expect(sixByteCount.prepareAll()).rejects.toThrow(/^lexical\/chunks\/00000\.bin: the term count at byte 5 is longer than 5 bytes/);
    const mini = {
      file: 'd.json',
      documents: 2,
      fields: [...LEXICAL_FIELDS],
      firstTerms: ['b', 'd'],
      chunks: { folder: 'c', count: 2, root: '0'.repeat(64), maxBytes: 9 },
    };
    const [a, b, d] = ['a', 'b', 'd'].map((t) => t.charCodeAt(0));
    expect(parseLexicalChunk(Uint8Array.from([1, 1, b, 1, 1, 0xf4, 0x03, 0]), mini, 0).get('b')![0]).toEqual({
      docs: Uint32Array.of(1),
      weights: Uint32Array.of(500),
    });
    expect(() => parseLexicalChunk(Uint8Array.from([2, 1, b, 1, 0, 5, 0, 1, a, 1, 0, 5, 0]), mini, 0)).toThrow(/^c\/00000\.bin: term 1 "a" is out of order/);
    expect(() => parseLexicalChunk(Uint8Array.from([1, 1, d, 1, 0, 5, 0]), mini, 0)).toThrow(
      /^c\/00000\.bin: term 0 "d" is out of order \(the chunk holds "b" … "d"/,
    );
    expect(() => parseLexicalChunk(Uint8Array.from([1, 1, b, 1, 2, 5, 0]), mini, 0)).toThrow(/^c\/00000\.bin: term "b" names document 2, but there are 2/);
    expect(() => parseLexicalChunk(Uint8Array.from([1, 1, b, 0, 0]), mini, 0)).toThrow(/^c\/00000\.bin: term "b" has no postings/);
    expect(() => parseLexicalChunk(Uint8Array.from([1, 1, 0xff, 1, 0, 5, 0]), mini, 0)).toThrow(/^c\/00000\.bin: term 0 is not UTF-8/);
    const empty = await remade(Uint8Array.from([0]));
    await expect(empty.prepareAll()).rejects.toThrow(/^lexical\/chunks\/00000\.bin: holds no terms/);
  });
});
