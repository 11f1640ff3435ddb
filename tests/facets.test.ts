// Filters, facet counts and sorting (src/core/facets.ts), their files (src/core/formats/facets.ts),
// where they come from (HTML attributes, JSONL fields), and how the modes' rankings apply them
// (src/core/modeRanking.ts). Oracles: per-document value lists counted by brute force, and the
// unfiltered ranking restricted to the kept documents.
import { describe, expect, it } from 'vitest';
import {
  addFacetValue,
  allowedDocuments,
  collectFacets,
  facetCounts,
  maskKeeps,
  parseFilterSpec,
  parseSortSpec,
  passageMask,
  sortDocuments,
  type FilterSelection,
} from '../src/core/facets.ts';
import { encodeFiltersFile, encodeSortFile, parseFiltersFile, parseSortFile, type DocumentFilters } from '../src/core/formats/facets.ts';
import type { DocMetadata } from '../src/core/formats/index.ts';
import { extractHtml } from '../src/core/ingest/html.ts';
import { parseJsonlLine } from '../src/core/ingest/jsonl.ts';
import type { FacetValues } from '../src/core/ingest/types.ts';
import { LEXICAL_SCHEME_DOCUMENTS, LexicalRanker, buildLexicalIndex, documentLexicalDocs, exactLexicalQuery } from '../src/core/lexical.ts';
import { rankForMode, type Refinement } from '../src/core/modeRanking.ts';
import { CpuQNetScorer } from '../src/core/qnetCpu.ts';
import { paperArchitecture, randomVectors, randomWeights, referenceScores, seededRandom } from '../src/core/qnet.ts';
import { documentGroups } from '../src/core/ranking.ts';
import { wordDrawer } from './helpers/wordCorpus.ts';

const enc = (s: string) => new TextEncoder().encode(s);

/** A seeded collection: documents of 1–3 passages, each document with a category, some tags and a year. */
function collection(documents: number, seed: number) {
  const { rnd, draw } = wordDrawer(['wing', 'flow', 'shock', 'heat', 'layer', 'drag', 'lift', 'pressure', 'wave', 'boundary'], seed);
  const docs: DocMetadata[] = [];
  const values: FacetValues[] = [];
  const passages: { docId: string; facets?: FacetValues }[] = [];
  for (let d = 0; d < documents; d++) {
    const facets: FacetValues = { filters: {}, sort: {} };
    addFacetValue(facets, 'filter', 'cat', ['guide', 'reference', 'news'][Math.floor(rnd() * 3)], 't');
    for (const t of ['x', 'y', 'z']) if (rnd() < 0.4) addFacetValue(facets, 'filter', 'tag', t, 't');
    if (rnd() < 0.8) addFacetValue(facets, 'sort', 'year', String(1990 + Math.floor(rnd() * 30)), 't');
    values.push(facets);
    const parts = 1 + Math.floor(rnd() * 3);
    for (let p = 0; p < parts; p++) {
      const id = parts === 1 ? `d${d}` : `d${d}#p${p + 1}`;
      docs.push({ id, title: `doc ${d}`, url: '', text: draw(12), fields: parts === 1 ? {} : { passage_of: `d${d}`, passage: p + 1 } });
      passages.push({ docId: `d${d}`, facets });
    }
  }
  return { docs, values, passages };
}

/** The oracle: does document d pass every selected key (OR of values within one)? */
function passes(values: FacetValues[], d: number, selection: FilterSelection, except?: string): boolean {
  return Object.entries(selection).every(([k, vs]) => k === except || vs.length === 0 || vs.some((v) => values[d].filters[k]?.includes(v)));
}

describe('filter and sort files', () => {
  it('round-trip, and every bad field is refused with the file and the field named', () => {
    const { passages } = collection(50, 1);
    const f = collectFacets(passages);
    expect(parseFiltersFile(encodeFiltersFile(f.filters, 50), 50, 'filters.json')).toEqual(f.filters);
    expect(parseSortFile(encodeSortFile(f.sort, 50), 50, 'sort.json')).toEqual(f.sort);
    expect(f.sort.get('year')!.numeric).toBe(true);
    const bad =
      (body: unknown, documents = 3) =>
      () =>
        parseFiltersFile(enc(JSON.stringify(body)), documents, 'documents/filters.json');
    const file = { format: 'hypencoder-filters', version: 1, documents: 3 };
    expect(bad({ ...file, documents: 4, filters: {} })).toThrow(/documents\/filters\.json: documents must be the index's document count 3, got 4/);
    expect(bad({ ...file, filters: { cat: { a: [0, 0] } } })).toThrow(/filters\["cat"\]\["a"\]\[1\] must be an integer ≥ 1, got 0/);
    expect(bad({ ...file, filters: { cat: { a: [1, 2] } } })).toThrow(/\["a"\]\[1\] reaches document 3, but there are 3/);
    expect(bad({ ...file, filters: { 'bad key': { a: [0] } } })).toThrow(/filters\["bad key"\] key holds white space/);
    expect(bad({ ...file, filters: { cat: { '': [0] } } })).toThrow(/\[""\] value is empty/);
    expect(bad({ ...file, filters: { cat: { a: [] } } })).toThrow(/must be a list of 1 … 3 document gaps/);
    const sortFile = (values: unknown) => () =>
      parseSortFile(enc(JSON.stringify({ format: 'hypencoder-sort', version: 1, documents: 3, sort: { year: values } })), 3, 'documents/sort.json');
    expect(sortFile([1, 2])).toThrow(/sort\["year"\] must list one value per document \(3\)/);
    expect(sortFile([1, {}, null])).toThrow(/sort\["year"\]\[1\] must be a number, a string or null/);
    expect(sortFile(['2001', null, 'b']).call(null).get('year')).toEqual({ numeric: false, values: ['2001', null, 'b'] });
  });

  it('refuses values the format cannot hold where they are written', () => {
    const f: FacetValues = { filters: {}, sort: {} };
    expect(() => addFacetValue(f, 'filter', 'a:b', 'x', 'page.html')).toThrow(/page\.html: filter key "a:b" holds white space or one of/);
    expect(() => addFacetValue(f, 'filter', 'k', '   ', 'page.html')).toThrow(/value "" is empty/);
    addFacetValue(f, 'sort', 'date', '2020', 'page.html');
    expect(() => addFacetValue(f, 'sort', 'date', '2021', 'page.html')).toThrow(/sort key "date" is given twice/);
    expect(() => parseFilterSpec('nocolon')).toThrow(/--filter "nocolon": expected key:value/);
    expect(parseSortSpec('year:desc')).toEqual({ by: 'year', order: 'desc' });
    expect(parseSortSpec('year')).toEqual({ by: 'year', order: 'asc' });
    expect(() => parseSortSpec('year:up')).toThrow(/expected key, key:asc or key:desc/);
  });
});

describe('selections, masks and facet counts', () => {
  const { docs, values, passages } = collection(300, 2);
  const { filters, documents } = collectFacets(passages);
  const groups = documentGroups(docs);

  it('keep exactly the documents the oracle keeps, and the mask keeps exactly their passages', () => {
    for (const selection of [{ cat: ['guide'] }, { cat: ['guide', 'news'], tag: ['x'] }, { tag: ['y', 'z'] }, { cat: ['nothing'] }] as FilterSelection[]) {
      const kept = allowedDocuments(filters, selection, documents)!;
      const want = Array.from({ length: documents }, (_, d) => passes(values, d, selection));
      expect(Array.from(kept.allowed, (x) => x === 1)).toEqual(want);
      expect(kept.count).toBe(want.filter(Boolean).length);
      const mask = passageMask(kept.allowed, groups);
      for (let p = 0; p < docs.length; p++) expect(maskKeeps(mask, p)).toBe(want[groups.docOf[p]]);
    }
    expect(allowedDocuments(filters, {}, documents)).toBeNull();
    expect(() => allowedDocuments(filters, { colour: ['red'] }, documents)).toThrow(/filter "colour": this index has only "cat", "tag"/);
  });

  it('count each value over the candidates that pass every other key (brute force)', () => {
    const candidates = Array.from({ length: documents }, (_, d) => d).filter((d) => d % 3 !== 1);
    for (const selection of [{}, { cat: ['guide'] }, { cat: ['reference'], tag: ['x', 'z'] }] as FilterSelection[]) {
      const got = facetCounts(filters, selection, candidates, documents);
      for (const key of ['cat', 'tag']) {
        const want: Record<string, number> = Object.fromEntries((selection[key] ?? []).map((v) => [v, 0]));
        for (const d of candidates) if (passes(values, d, selection, key)) for (const v of values[d].filters[key] ?? []) want[v] = (want[v] ?? 0) + 1;
        expect(got[key], `${key} under ${JSON.stringify(selection)}`).toEqual(want);
      }
    }
  });

  it('sort by a numeric key either way, pages without it last, ties in rank order', () => {
    const { sort } = collectFacets(passages);
    const ranked = Array.from({ length: 40 }, (_, i) => ({ document: (i * 7) % documents }));
    const year = (d: number) => sort.get('year')!.values[d] as number | null;
    for (const order of ['asc', 'desc'] as const) {
      const got = sortDocuments(ranked, sort, { by: 'year', order });
      const withYear = ranked.filter((h) => year(h.document) !== null);
      const want = [
        ...withYear
          .map((h, i) => ({ h, i }))
          .sort((a, b) => (order === 'asc' ? 1 : -1) * (year(a.h.document)! - year(b.h.document)!) || a.i - b.i)
          .map((x) => x.h),
        ...ranked.filter((h) => year(h.document) === null),
      ];
      expect(got).toEqual(want);
    }
    expect(() => sortDocuments(ranked, sort, { by: 'date', order: 'asc' })).toThrow(/sort key "date": this index has only "year"/);
  });
});

describe('the modes rank within a filter', () => {
  const { docs, passages } = collection(200, 3);
  const groups = documentGroups(docs);
  const { filters, sort, documents } = collectFacets(passages);
  const lexical = new LexicalRanker(buildLexicalIndex(documentLexicalDocs(docs, groups)), LEXICAL_SCHEME_DOCUMENTS, docs, groups);
  // A q-net's passages from the CPU scorer, every passage ranked.
  const arch = paperArchitecture(16, 16, 1);
  const vectors = randomVectors(docs.length, 16, seededRandom(4));
  const scores = referenceScores(randomWeights(arch, seededRandom(5)), vectors, docs.length);
  const neural = Array.from({ length: docs.length }, (_, i) => i)
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .map((doc) => ({ doc, score: scores[doc] }));
  const selection: FilterSelection = { cat: ['guide'], tag: ['x', 'y'] };
  const allowed = allowedDocuments(filters, selection, documents)!;
  const refine: Refinement = { allowed, facets: { filters, selection } };
  const ids = (r: { hits: { docId: string }[] }) => r.hits.map((h) => h.docId);
  const keptId = new Set(groups.passages.flatMap((ps, d) => (allowed.allowed[d] ? [docs[ps[0]].fields?.passage_of ?? docs[ps[0]].id] : [])));

  it('lexical and neural: the unfiltered ranking with the filtered-out pages taken away', () => {
    for (const mode of ['lexical', 'neural'] as const) {
      const all = rankForMode({ mode, query: 'shock wave layer', k: 1000, docs, groups, neural, lexical });
      const got = rankForMode({ mode, query: 'shock wave layer', k: 10, docs, groups, neural, lexical, refine });
      expect(ids(got), mode).toEqual(
        ids(all)
          .filter((id) => keptId.has(id))
          .slice(0, 10),
      );
      expect(got.hits.length, mode).toBeGreaterThan(0);
    }
  });

  it('hybrid: only kept pages, as many as asked while there are that many, and facet counts with the hits', () => {
    const got = rankForMode({ mode: 'hybrid', query: 'shock wave layer', k: 10, docs, groups, neural, lexical, refine });
    expect(got.hits.every((h) => keptId.has(h.docId))).toBe(true);
    expect(got.hits.length).toBe(Math.min(10, allowed.count));
    const candidates = new Set(lexical.rank(exactLexicalQuery('shock wave layer')).docs.map((h) => h.doc));
    for (const h of got.hits) candidates.add(groups.docOf[h.passage]);
    expect(got.facets).toEqual(facetCounts(filters, selection, candidates, documents));
  });

  it('a sort orders the best 100 by the key, then cuts at k', () => {
    const by = rankForMode({ mode: 'lexical', query: 'shock', k: 100, docs, groups, neural, lexical });
    const sorted = rankForMode({
      mode: 'lexical',
      query: 'shock',
      k: 5,
      docs,
      groups,
      neural,
      lexical,
      refine: { allowed: null, sort: { keys: sort, order: { by: 'year', order: 'desc' } } },
    });
    const docOf = (id: string) => groups.docOf[docs.findIndex((m) => (m.fields?.passage_of ?? m.id) === id)];
    const want = sortDocuments(
      ids(by).map((id) => ({ document: docOf(id), id })),
      sort,
      { by: 'year', order: 'desc' },
    )
      .slice(0, 5)
      .map((h) => h.id);
    expect(ids(sorted)).toEqual(want);
  });

  it('the CPU scorer keeps only masked-in passages', () => {
    const mask = passageMask(allowed.allowed, groups);
    const w = randomWeights(arch, seededRandom(5));
    const top = new CpuQNetScorer('js').topK(w, vectors, docs.length, 15, mask);
    const want = neural.filter((h) => maskKeeps(mask, h.doc)).slice(0, 15);
    expect(Array.from(top.indices)).toEqual(want.map((h) => h.doc));
  });
});

describe('where filter and sort values come from', () => {
  it('HTML: data-hypencoder-filter (text, key:value, key[attribute], commas), Pagefind names, meta tags, sort', () => {
    const page = extractHtml(
      `<html><head><title>T</title><meta data-hypencoder-filter="author[content]" content="Ada"><meta data-pagefind-sort="date[content]" content="2024-05-01"></head>
       <body><main><h1>Title</h1><p>Text <span data-hypencoder-filter="tag" hidden>beta</span></p>
       <div data-pagefind-filter="tag:alpha, level:intro"></div></main></body></html>`,
      'f',
      {},
      'docs/a.html',
    )!;
    expect(page.facets).toEqual({ filters: { author: ['Ada'], tag: ['beta', 'alpha'], level: ['intro'] }, sort: { date: '2024-05-01' } });
    expect(page.sections.map((s) => s.text).join(' ')).not.toContain('beta'); // a hidden value is a filter, not text
    expect(() => extractHtml('<p data-hypencoder-filter="tag[data-x]">x</p>', 'f', {}, 'docs/b.html')).toThrow(
      /docs\/b\.html: <p data-hypencoder-filter="tag\[data-x\]">: the element has no attribute data-x/,
    );
    expect(() => extractHtml('<p data-hypencoder-filter="bad key:x">x</p>', 'f', {}, 'docs/c.html')).toThrow(/docs\/c\.html.*filter key "bad key"/);
  });

  it("HTML: the page's lang becomes the language filter (unless it names one); one language for all pages is not written", () => {
    const page = (lang: string, extra = '') => extractHtml(`<html lang="${lang}"><body${extra}><p>x</p></body></html>`, 'f', {}, 'p.html')!.facets;
    expect(page('ja-JP')).toEqual({ filters: { language: ['ja'] }, sort: {} });
    expect(page('EN')).toEqual({ filters: { language: ['en'] }, sort: {} });
    expect(page('x-klingon')).toBeUndefined(); // not a language subtag
    expect(page('de', ' data-hypencoder-filter="language:Deutsch"')).toEqual({ filters: { language: ['Deutsch'] }, sort: {} });
    const site = (langs: string[]) => collectFacets(langs.map((l, i) => ({ docId: `p${i}`, facets: page(l) })));
    expect(site(['en', 'en-GB']).filters.has('language')).toBe(false);
    expect([...site(['en', 'ja', 'en']).filters.get('language')!.keys()].sort()).toEqual(['en', 'ja']);
  });

  it('JSONL: --filter-field values (a scalar or a list), --sort-field, and errors at file:line', () => {
    const doc = parseJsonlLine('{"id":"1","text":"t","cat":"a","tags":["x",2,true],"year":2001}', 'c.jsonl:4', {
      filterFields: ['cat', 'tags', 'missing'],
      sortFields: ['year'],
    })!;
    expect(doc.facets).toEqual({ filters: { cat: ['a'], tags: ['x', '2', 'true'] }, sort: { year: '2001' } });
    expect(() => parseJsonlLine('{"id":"1","text":"t","cat":{"a":1}}', 'c.jsonl:5', { filterFields: ['cat'] })).toThrow(
      /c\.jsonl:5: "cat" \(a --filter-field\) must be a string, number or boolean, got a object/,
    );
    expect(() => parseJsonlLine('{"id":"1","text":"t","year":[1]}', 'c.jsonl:6', { sortFields: ['year'] })).toThrow(/c\.jsonl:6: "year" \(a --sort-field\)/);
    expect(parseJsonlLine('{"id":"1","text":"t"}', 'c.jsonl:7', { filterFields: ['cat'] })!.facets).toBeUndefined();
  });

  it('documents are numbered at their first passage, as documentGroups numbers them', () => {
    const { docs, passages } = collection(30, 6);
    const f = collectFacets(passages);
    expect(f.documents).toBe(documentGroups(docs).passages.length);
    const all = [...(f.filters as DocumentFilters).get('cat')!.values()].reduce((n, ds) => n + ds.length, 0);
    expect(all).toBe(30);
  });
});
