// The browser engine's lexical / hybrid layer (src/worker/modeSearch.ts) with a lexical index that
// is loaded at its first use (the engine fetches it then, not with the rest of the bundle).
import { describe, expect, it } from 'vitest';
import type lunr from 'lunr';
import type { DocMetadata } from '../src/core/formats/index.ts';
import type { ScoredDoc } from '../src/core/fusion.ts';
import { LEXICAL_SCHEME_DOCUMENTS, LEXICAL_SCHEME_PASSAGES, LexicalRanker, buildLexicalIndex, documentLexicalDocs } from '../src/core/lexical.ts';
import { rankForMode } from '../src/core/modeRanking.ts';
import { seededRandom } from '../src/core/qnet.ts';
import { documentGroups } from '../src/core/ranking.ts';
import { SEARCH_DEFAULTS, snippetOf, type SearchHit } from '../src/core/search.ts';
import { ModeSearch } from '../src/worker/modeSearch.ts';

/** The hits of a ModeSearch answer (null when it was given up). */
const hitsOf = (r: { hits: SearchHit[] } | null) => r?.hits ?? null;

const docs: DocMetadata[] = [
  { id: 'a#p0', title: 'Shallow copy', url: '', text: 'copy.copy makes a shallow copy of a list', fields: { passage_of: 'a' } },
  { id: 'a#p1', title: 'Shallow copy', url: '', text: 'the items are shared with the original', fields: { passage_of: 'a' } },
  { id: 'b', title: 'Deep copy', url: '', text: 'copy.deepcopy copies the items recursively', fields: {} },
  { id: 'c', title: 'Sorting', url: '', text: 'sorted returns a new sorted list', fields: {} },
];
function ranked(scores: number[]): ScoredDoc[] {
  return scores.map((score, doc) => ({ doc, score })).sort((a, b) => b.score - a.score || a.doc - b.doc);
}
// A fixed neural ranking (the GPU's part in the engine).
const neural = async (_q: string, depth: number) => [3, 2, 1, 0].slice(0, depth).map((doc, i) => ({ doc, score: 4 - i }));
// The indexer's lexical index (scheme lunr-doc-1: one record per source document).
const docIndex = () => buildLexicalIndex(documentLexicalDocs(docs, documentGroups(docs)));
const scheme = LEXICAL_SCHEME_DOCUMENTS;

describe('ModeSearch with a lexical index loaded at first use', () => {
  it('loads it once, only for lexical or hybrid search, and ranks as with the index given up front', async () => {
    let loads = 0;
    const index = docIndex();
    const lazy = new ModeSearch(neural, docs, { scheme, index: async () => (loads++, index) }, 100);
    const eager = new ModeSearch(neural, docs, { scheme, index }, 100);
    expect(lazy.hasLexical).toBe(true);
    expect(await lazy.search('copy items', 'neural', 3).then(hitsOf)).toEqual(await eager.search('copy items', 'neural', 3).then(hitsOf));
    expect(loads).toBe(0);
    const [l1, l2] = await Promise.all([lazy.search('copy items', 'lexical', 3).then(hitsOf), lazy.search('shared items', 'lexical', 3).then(hitsOf)]);
    expect(loads).toBe(1);
    expect(l1).toEqual(await eager.search('copy items', 'lexical', 3).then(hitsOf));
    expect(l2).toEqual(await eager.search('shared items', 'lexical', 3).then(hitsOf));
    expect(l1!.map((h) => h.docId).sort()).toEqual(['a', 'b']); // one hit per document; c has neither word
    expect(await lazy.search('deep copy', 'hybrid', 3).then(hitsOf)).toEqual(await eager.search('deep copy', 'hybrid', 3).then(hitsOf));
    expect(loads).toBe(1);
  });

  it('a failed load is reported and tried again at the next search', async () => {
    let calls = 0;
    const index = docIndex();
    const m = new ModeSearch(
      neural,
      docs,
      {
        scheme,
        index: async (): Promise<lunr.Index> => {
          if (++calls === 1) throw new Error('lexical/lunr.json: could not fetch (offline)');
          return index;
        },
      },
      100,
    );
    await expect(m.search('copy', 'lexical', 2).then(hitsOf)).rejects.toThrow(/lunr\.json: could not fetch/);
    expect((await m.search('copy', 'lexical', 2).then(hitsOf))!.length).toBe(2);
    expect(calls).toBe(2);
  });

  it('an index without a lexical part refuses lexical and hybrid search', async () => {
    const m = new ModeSearch(neural, docs, null, 100);
    expect(m.hasLexical).toBe(false);
    await expect(m.search('copy', 'lexical', 2).then(hitsOf)).rejects.toThrow(/no lexical index/);
    await expect(m.search('copy', 'hybrid', 2).then(hitsOf)).rejects.toThrow(/no lexical index/);
  });
});

describe('quoted phrases', () => {
  it('keep, in lexical and hybrid mode, only documents with the phrase in one passage, in the order they had', async () => {
    const m = new ModeSearch(neural, docs, { scheme, index: docIndex() }, 100);
    const ids = async (q: string, mode: 'lexical' | 'hybrid' | 'neural') => (await m.search(q, mode, 4).then(hitsOf))!.map((h) => h.docId);
    // "shallow copy": in a#p0 (stems shallow, copi); b says "deepcopy copies", never "shallow copy".
    expect(await ids('copy items', 'lexical')).toEqual(expect.arrayContaining(['a', 'b']));
    expect(await ids('"shallow copy" items', 'lexical')).toEqual(['a']);
    expect(await ids('"shallow copy" items', 'hybrid')).toEqual(['a']);
    // Stemmed and with stop words dropped, as BM25 sees words: "copies the items" holds "copy items".
    expect(await ids('"copy items"', 'lexical')).toEqual(['b']);
    expect(await ids('"items recursively shared"', 'lexical')).toEqual([]);
    // A one-word "phrase" is just a word; neural mode ignores quotes.
    expect(await ids('"shared"', 'lexical')).toEqual(['a']);
    expect((await ids('"shallow copy"', 'neural')).length).toBe(3);
  });
});

describe('sub-results', () => {
  it("a hit carries its document's other sections that hold the query's words, most of them first, linked and highlighted", async () => {
    const page = (p: number, text: string): DocMetadata => ({
      id: `g#p${p}`,
      title: `Guide › Part ${p}`,
      url: `guide.html#part-${p}`,
      text,
      fields: { passage_of: 'g' },
    });
    const many: DocMetadata[] = [
      page(0, 'install the widget and calibrate it'),
      page(1, 'history of clocks'),
      page(2, 'calibrate the widget escapement'),
      page(3, 'calibrate once more'),
      page(4, 'calibrate a fourth time'),
      page(5, 'calibrate a fifth time'),
      { id: 'x', title: 'Other', url: 'x.html', text: 'unrelated text', fields: {} },
    ];
    const m = new ModeSearch(neural, many, { scheme, index: buildLexicalIndex(documentLexicalDocs(many, documentGroups(many))) }, 100);
    const [hit] = (await m.search('calibrate widget', 'lexical', 1).then(hitsOf))!;
    expect(hit.id).toBe('g#p0'); // both words, the first such section
    expect(hit.sections!.map((s) => s.id)).toEqual(['g#p2', 'g#p3', 'g#p4']); // both words first, then one, in order; at most 3
    expect(hit.sections!.length).toBe(SEARCH_DEFAULTS.subResults);
    expect(hit.sections![0]).toMatchObject({ url: 'guide.html#part-2', title: 'Guide › Part 2' });
    const s0 = hit.sections![0];
    expect(s0.highlights.map((r) => s0.snippet.slice(r.start, r.end))).toEqual(['calibrate', 'widget']);
    // A single-passage document has none.
    const [other] = (await m.search('unrelated', 'lexical', 1).then(hitsOf))!;
    expect(other.sections).toBeUndefined();
  });
});

describe('document-level lexical index (lunr-doc-1)', () => {
  it('ranks documents, each shown by its passage holding the most query words', async () => {
    const m = new ModeSearch(neural, docs, { scheme, index: docIndex() }, 100);
    const hits = (await m.search('items shared original', 'lexical', 3).then(hitsOf))!;
    // Only a's second passage has these words; the document is found and shown by that passage.
    expect(hits.map((h) => h.id)).toEqual(['a#p1', 'b']);
    const copy = (await m.search('shallow copy list', 'lexical', 3).then(hitsOf))!;
    expect(copy[0].id).toBe('a#p0');
  });

  it('scores a split document as one record: its score is that of the hand-joined document', async () => {
    const joined = buildLexicalIndex([{ title: 'Shallow copy', text: `${docs[0].text}\n${docs[1].text}` }, docs[2], docs[3]]);
    const want = joined.search('shared').find((r) => r.ref === '0')!.score;
    const m = new ModeSearch(neural, docs, { scheme, index: docIndex() }, 100);
    const [hit] = (await m.search('shared', 'lexical', 3).then(hitsOf))!;
    expect(hit.docId).toBe('a');
    expect(hit.score).toBe(want);
  });

  it("hybrid shows a document BM25 matched by BM25's passage, even where the q-net prefers another", async () => {
    // The q-net ranks a#p0 above a#p1; BM25's passage for "items shared" is a#p1.
    const neuralA0First = async (_q: string, depth: number) => [3, 0, 2, 1].slice(0, depth).map((doc, i) => ({ doc, score: 4 - i }));
    const m = new ModeSearch(neuralA0First, docs, { scheme, index: docIndex() }, 100);
    const hits = (await m.search('items shared', 'hybrid', 3).then(hitsOf))!;
    expect(hits.find((h) => h.docId === 'a')!.id).toBe('a#p1');
    expect(hits.find((h) => h.docId === 'c')!.id).toBe('c'); // no BM25 match: the q-net's passage
  });

  it('reads a per-passage (lunr-2) index of an older bundle in every mode', async () => {
    const m = new ModeSearch(neural, docs, { scheme: LEXICAL_SCHEME_PASSAGES, index: buildLexicalIndex(docs) }, 100);
    expect((await m.search('shared', 'lexical', 3).then(hitsOf))!.map((h) => h.id)).toEqual(['a#p1']);
    const hybrid = (await m.search('copy items', 'hybrid', 4).then(hitsOf))!;
    expect(new Set(hybrid.map((h) => h.docId))).toEqual(new Set(['a', 'b', 'c']));
  });

  it('refuses a lexical index whose refs are not documents of this bundle, naming the file', async () => {
    const tooMany = buildLexicalIndex([...documentLexicalDocs(docs, documentGroups(docs)), { title: 'extra', text: 'one record too many' }]);
    const m = new ModeSearch(neural, docs, { scheme, index: tooMany, file: 'lexical/lunr.json' }, 100);
    await expect(m.search('copy', 'lexical', 2).then(hitsOf)).rejects.toThrow(/lexical\/lunr\.json: ref "3" is not a document number of this bundle \(0 … 2\)/);
  });
});

describe('one ranking path and one hit for every mode', () => {
  it('neural search asks the q-net for k passages when every document is one passage, for enough passages to find k documents otherwise', async () => {
    const depths: number[] = [];
    const recording = (order: number[]) => async (_q: string, depth: number) => (
      depths.push(depth), order.slice(0, depth).map((doc, i) => ({ doc, score: 4 - i }))
    );
    const plain = docs.slice(2); // b and c: one passage each
    expect((await new ModeSearch(recording([1, 0]), plain, null, 100).search('copy', 'neural', 1).then(hitsOf))!.map((h) => h.id)).toEqual(['c']);
    expect((await new ModeSearch(recording([3, 2, 1, 0]), docs, null, 100).search('copy', 'neural', 2).then(hitsOf))!.map((h) => h.docId)).toEqual(['c', 'b']);
    expect(depths).toEqual([1, 4]); // 4 = all the passages there are (fewer than 4·100)
  });

  it('gives up when the neural ranking does (a newer search started)', async () => {
    const m = new ModeSearch(neural, docs, { scheme, index: docIndex() }, 100);
    expect(await m.search('copy', 'neural', 2, { neural: async () => null }).then(hitsOf)).toBeNull();
    expect(await m.search('copy', 'hybrid', 2, { neural: async () => null }).then(hitsOf)).toBeNull();
  });

  it('a hit carries its snippet, white space collapsed, and the query words highlighted in it', async () => {
    const text = `Copies\n\n\t  of lists:   a shallow copy.\n${'word '.repeat(60)}`;
    const spaced: DocMetadata[] = [{ id: 'x', title: 'Copy', url: 'https://example.org/x', text, fields: {} }];
    const [hit] = (await new ModeSearch(async () => [{ doc: 0, score: 1 }], spaced, null, 100).search('copying lists', 'neural', 1).then(hitsOf))!;
    expect(hit.snippet).toBe(snippetOf(text));
    expect(hit.snippet.startsWith('Copies of lists: a shallow copy. word word')).toBe(true);
    expect(hit.snippet.length).toBe(SEARCH_DEFAULTS.snippetChars + 1); // cut, with an ellipsis
    expect(hit.snippet.endsWith('…')).toBe(true);
    expect(hit.highlights.map((r) => hit.snippet.slice(r.start, r.end))).toEqual(['Copies', 'lists', 'copy']);
    expect(hit).toMatchObject({ rank: 1, passage: 0, id: 'x', docId: 'x', title: 'Copy', url: 'https://example.org/x', score: 1 });
  });
});

describe('hybrid ranking that does not depend on k', () => {
  // A synthetic collection: 1500 documents of Zipf-distributed words, every fifth split into two
  // passages; a q-net that scores a passage by its query words plus noise (it agrees with BM25 in
  // part), served as a GPU top-k serves it: the best `depth` passages of a fixed ranking.
  const rand = seededRandom(11);
  const vocab = Array.from({ length: 300 }, (_, i) => `w${i}x`);
  const zipf = vocab.map((_, i) => 1 / (i + 1));
  const total = zipf.reduce((a, b) => a + b, 0);
  const word = () => {
    let u = rand() * total;
    for (let i = 0; i < zipf.length; i++) {
      u -= zipf[i];
      if (u <= 0) return vocab[i];
    }
    return vocab.at(-1)!;
  };
  const text = (n: number) => Array.from({ length: n }, word).join(' ');
  const many: DocMetadata[] = [];
  for (let d = 0; d < 1500; d++) {
    if (d % 5 === 0)
      for (let p = 0; p < 2; p++)
        many.push({ id: `d${d}#p${p}`, title: '', url: '', text: text(10 + Math.floor(rand() * 30)), fields: { passage_of: `d${d}`, passage: p } });
    else many.push({ id: `d${d}`, title: '', url: '', text: text(10 + Math.floor(rand() * 40)), fields: {} });
  }
  const groups = documentGroups(many);
  const index = buildLexicalIndex(documentLexicalDocs(many, groups));
  const full = new Map<string, ScoredDoc[]>();
  const fullRanking = (q: string): ScoredDoc[] => {
    if (!full.has(q)) {
      const noise = seededRandom(q.length * 7919 + q.charCodeAt(1));
      const words = new Set(q.split(' '));
      const scores = many.map((m) => m.text.split(' ').filter((w) => words.has(w)).length / Math.sqrt(m.text.split(' ').length) + 0.6 * noise());
      full.set(q, ranked(scores));
    }
    return full.get(q)!;
  };
  const gpuTopK = async (q: string, depth: number) => fullRanking(q).slice(0, depth);
  const engine = new ModeSearch(gpuTopK, many, { scheme, index }, 4096);
  const queries = Array.from({ length: 12 }, (_, i) => `${vocab[3 + 4 * i]} ${vocab[40 + 7 * i]} ${vocab[90 + 11 * i]}`);
  const ids = (hits: { docId: string }[] | null) => hits!.map((h) => h.docId);

  it('the top 10 at k = 10 is the top 10 at k = 1000 (and the top 150 that at k = 150), in both engines', async () => {
    const weights: number[] = [];
    let reordered = 0;
    for (const q of queries) {
      const deep = ids(await engine.search(q, 'hybrid', 1000).then(hitsOf));
      expect(ids(await engine.search(q, 'hybrid', 10).then(hitsOf))).toEqual(deep.slice(0, 10));
      expect(ids(await engine.search(q, 'hybrid', 150).then(hitsOf))).toEqual(deep.slice(0, 150));
      // the Node engine hands the q-net's whole ranking
      const lexical = new LexicalRanker(index, scheme, many, groups);
      for (const k of [10, 1000]) {
        const node = rankForMode({ mode: 'hybrid', query: q, k, docs: many, groups, neural: fullRanking(q), lexical });
        expect(ids(node.hits)).toEqual(deep.slice(0, k));
        weights.push(node.fusion!.neuralWeight);
      }
      if (deep.slice(0, 10).join() !== ids(await engine.search(q, 'lexical', 10).then(hitsOf)).join()) reordered++;
    }
    // the fusion is at work here, not just BM25's order
    expect(weights.filter((w) => w > 0).length).toBeGreaterThan(0);
    expect(reordered).toBeGreaterThan(0);
  });

  it("at every cutoff c ≤ k holds as many of BM25's matches as BM25's own top c: min(c, matches)", async () => {
    for (const q of queries) {
      const matches = new Set(ids(await engine.search(q, 'lexical', many.length).then(hitsOf)));
      expect(matches.size).toBeGreaterThan(100);
      const hybrid = ids(await engine.search(q, 'hybrid', 1000).then(hitsOf));
      let held = 0;
      hybrid.forEach((doc, i) => {
        if (matches.has(doc)) held++;
        expect(held).toBe(Math.min(i + 1, matches.size));
      });
    }
  });
});
