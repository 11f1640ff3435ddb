// The union of bundles (src/core/bundleUnion.ts), without a model: a seeded word corpus's BM25 weights
// computed once, cut into 3 shards' chunk sets (as `index --shards` cuts them), searched as one by
// UnionLexicalIndex, against the oracle of the one chunk set of the whole corpus: the same hits and
// scores for every query, with typos corrected the same way (the query vector's length, a correction's
// document frequency and the word list are the union's). And the record, filter and sort unions.
import { describe, expect, it } from 'vitest';
import { UnionLexicalIndex, checkOneModel, unionFilters, unionOf, unionSortKeys } from '../src/core/bundleUnion.ts';
import type { DocMetadata, IndexManifest } from '../src/core/formats/index.ts';
import { verifyMerkleMember } from '../src/core/formats/merkle.ts';
import { buildLexicalIndex, type LexicalDoc } from '../src/core/lexical.ts';
import {
  ChunkedLexicalIndex,
  LEXICAL_DICTIONARY_FILE,
  type ChunkedLexicalFiles,
  chunkPostings,
  lexicalPostings,
  parseLexicalDictionary,
  slicePostings,
} from '../src/core/lexicalChunked.ts';
import { documentGroups } from '../src/core/ranking.ts';
import { corpusWordList } from '../src/core/typoTolerance.ts';
import { wordDrawer } from './helpers/wordCorpus.ts';

const WORDS =
  'wing lift drag flow heat boundary layer shock pressure mach supersonic laminar turbulent nozzle panel flutter buckling cylinder shell plate configuration'.split(
    ' ',
  );

function corpus(n: number): LexicalDoc[] {
  const { rnd, draw } = wordDrawer(WORDS, 7);
  // Rare words only in some documents, so a shard may lack a query term another shard holds.
  return Array.from({ length: n }, (_, i) => ({
    title: `${draw(2)} ${i}`,
    text: `${draw(3 + Math.floor(rnd() * 30))}${i % 37 === 0 ? ' aeroelastic' : ''}${i > 150 && i % 11 === 0 ? ' hypersonic' : ''}`,
  }));
}

function open(files: ChunkedLexicalFiles, words: Uint8Array): ChunkedLexicalIndex {
  const dict = parseLexicalDictionary(files.dictionary.data, LEXICAL_DICTIONARY_FILE, files.chunks);
  return new ChunkedLexicalIndex(
    dict,
    async (j) => verifyMerkleMember(files.members[j], j, files.chunks.count, files.chunks.root, 'c'),
    async () => words,
  );
}

describe('UnionLexicalIndex over shards cut from one collection', () => {
  it('scores every query as the one index of the whole collection, typos included', async () => {
    const docs = corpus(240);
    const postings = lexicalPostings(buildLexicalIndex(docs));
    const whole = open(await chunkPostings(postings, docs.length, 256), corpusWordList(docs).data);
    const bounds = [0, 70, 171, 240];
    const parts = [];
    for (let s = 0; s < 3; s++) {
      const [a, b] = [bounds[s], bounds[s + 1]];
      parts.push({ index: open(await chunkPostings(slicePostings(postings, a, b - a), b - a, 256), corpusWordList(docs.slice(a, b)).data), firstDocument: a });
    }
    const union = new UnionLexicalIndex(parts);
    expect(union.documents).toBe(240);
    await union.prepareAll();
    const queries = [
      'shock wave boundary layer',
      'flutter of a thin panel',
      'hypersonic flow', // a term the first shards lack: the query's length must count it
      'aeroelastic hypersonic aeroelastic',
      'boundery layr turbulant', // typos: corrected from the union's words and document frequencies
      'hypersonik nozzle',
      'configuraton of the wing',
      'the of and',
      'plate 17',
    ];
    for (const q of queries) {
      const a = await whole.prepare(q, true);
      const b = await union.prepare(q, true);
      expect([...b.terms], q).toEqual([...a.terms]);
      expect(b.corrections, q).toEqual(a.corrections);
      expect(union.hits(b), q).toEqual(whole.hits(a));
    }
    expect(union.hits(await union.prepare('hypersonic', true)).length).toBeGreaterThan(0);
  });

  it('differs from shards with weights of their own: per-shard statistics are not the collection', async () => {
    const docs = corpus(240);
    const whole = open(await chunkPostings(lexicalPostings(buildLexicalIndex(docs)), docs.length), corpusWordList(docs).data);
    const own = [];
    for (const [a, b] of [
      [0, 120],
      [120, 240],
    ]) {
      const part = docs.slice(a, b);
      own.push({ index: open(await chunkPostings(lexicalPostings(buildLexicalIndex(part)), part.length), corpusWordList(part).data), firstDocument: a });
    }
    const apart = new UnionLexicalIndex(own);
    const q = 'hypersonic shock';
    expect(apart.hits(await apart.prepare(q))).not.toEqual(whole.hits(await whole.prepare(q)));
  });
});

const manifest = (id: string, sha: string, docCount: number, dim = 4) => ({ model: { id, sha256: sha }, docCount, dim }) as unknown as IndexManifest;
const rec = (id: string, of?: string): DocMetadata => ({ id, title: id, url: '', text: id, ...(of ? { fields: { passage_of: of } } : {}) });

describe('unionOf, unionFilters, unionSortKeys', () => {
  const a = [rec('a#p1', 'a'), rec('a#p2', 'a'), rec('b')];
  const b = [rec('c'), rec('d#p1', 'd'), rec('d#p2', 'd')];
  const members = [
    { name: 'one', manifest: manifest('m', 'f'.repeat(64), 3), metadata: a, groups: documentGroups(a) },
    { name: 'two', manifest: manifest('m', 'f'.repeat(64), 3), metadata: b, groups: documentGroups(b) },
  ];

  it('numbers passages and documents bundle after bundle', () => {
    const u = unionOf(members);
    expect(u.parts.map((p) => [p.firstPassage, p.passages, p.firstDocument, p.documents])).toEqual([
      [0, 3, 0, 2],
      [3, 3, 2, 2],
    ]);
    expect(Array.from(u.groups.docOf)).toEqual([0, 0, 1, 2, 3, 3]);
    expect(u.groups.passages).toEqual([[0, 1], [2], [3], [4, 5]]);
    expect(u.groups).toEqual(documentGroups([...a, ...b]));
  });

  it('refuses bundles of two models, naming both', () => {
    expect(() => checkOneModel([members[0], { ...members[1], manifest: manifest('m2', 'e'.repeat(64), 3) }])).toThrow(
      /two was built with model "m2" \(model.json eeeeeeeeeeee…\) but one with "m" \(model.json ffffffffffff…\)/,
    );
    expect(() => checkOneModel([members[0], { ...members[1], manifest: manifest('m', 'e'.repeat(64), 3) }])).toThrow(/must share one model/);
  });

  it('offsets filters and sort keys; a key text in one bundle is compared as text', () => {
    const u = unionOf(members);
    const f = unionFilters(u, [new Map([['lang', new Map([['en', Uint32Array.from([0, 1])]])]]), null]);
    expect(f).toEqual(new Map([['lang', new Map([['en', Uint32Array.from([0, 1])]])]]));
    const g = unionFilters(u, [
      new Map([['lang', new Map([['en', Uint32Array.from([1])]])]]),
      new Map([
        [
          'lang',
          new Map([
            ['en', Uint32Array.from([0])],
            ['fr', Uint32Array.from([1])],
          ]),
        ],
      ]),
    ]);
    expect(g?.get('lang')?.get('en')).toEqual(Uint32Array.from([1, 2]));
    expect(g?.get('lang')?.get('fr')).toEqual(Uint32Array.from([3]));
    const s = unionSortKeys(u, [new Map([['year', { numeric: true, values: [2001, null] }]]), new Map([['year', { numeric: false, values: ['1999', 'x'] }]])]);
    expect(s?.get('year')).toEqual({ numeric: false, values: ['2001', null, '1999', 'x'] });
    const n = unionSortKeys(u, [new Map([['year', { numeric: true, values: [2001, 5] }]]), null]);
    expect(n?.get('year')).toEqual({ numeric: true, values: [2001, 5, null, null] });
  });
});
