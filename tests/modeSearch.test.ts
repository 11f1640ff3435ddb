// The browser engine's lexical / hybrid layer (src/worker/modeSearch.ts) with a lexical index that
// is loaded at its first use (the engine fetches it then, not with the rest of the bundle).
import { describe, expect, it } from 'vitest';
import type lunr from 'lunr';
import type { DocMetadata } from '../src/core/formats/index.ts';
import { LEXICAL_SCHEME_DOCUMENTS, LEXICAL_SCHEME_PASSAGES, buildLexicalIndex, documentLexicalDocs } from '../src/core/lexical.ts';
import { documentGroups } from '../src/core/ranking.ts';
import { SEARCH_DEFAULTS, snippetOf } from '../src/core/search.ts';
import { ModeSearch } from '../src/worker/modeSearch.ts';

const docs: DocMetadata[] = [
  { id: 'a#p0', title: 'Shallow copy', url: '', text: 'copy.copy makes a shallow copy of a list', fields: { passage_of: 'a' } },
  { id: 'a#p1', title: 'Shallow copy', url: '', text: 'the items are shared with the original', fields: { passage_of: 'a' } },
  { id: 'b', title: 'Deep copy', url: '', text: 'copy.deepcopy copies the items recursively', fields: {} },
  { id: 'c', title: 'Sorting', url: '', text: 'sorted returns a new sorted list', fields: {} },
];
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
    expect(await lazy.search('copy items', 'neural', 3)).toEqual(await eager.search('copy items', 'neural', 3));
    expect(loads).toBe(0);
    const [l1, l2] = await Promise.all([lazy.search('copy items', 'lexical', 3), lazy.search('shared items', 'lexical', 3)]);
    expect(loads).toBe(1);
    expect(l1).toEqual(await eager.search('copy items', 'lexical', 3));
    expect(l2).toEqual(await eager.search('shared items', 'lexical', 3));
    expect(l1!.map((h) => h.docId).sort()).toEqual(['a', 'b']); // one hit per document; c has neither word
    expect(await lazy.search('deep copy', 'hybrid', 3)).toEqual(await eager.search('deep copy', 'hybrid', 3));
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
    await expect(m.search('copy', 'lexical', 2)).rejects.toThrow(/lunr\.json: could not fetch/);
    expect((await m.search('copy', 'lexical', 2))!.length).toBe(2);
    expect(calls).toBe(2);
  });

  it('an index without a lexical part refuses lexical and hybrid search', async () => {
    const m = new ModeSearch(neural, docs, null, 100);
    expect(m.hasLexical).toBe(false);
    await expect(m.search('copy', 'lexical', 2)).rejects.toThrow(/no lexical index/);
    await expect(m.search('copy', 'hybrid', 2)).rejects.toThrow(/no lexical index/);
  });
});

describe('document-level lexical index (lunr-doc-1)', () => {
  it('ranks documents, each shown by its passage holding the most query words', async () => {
    const m = new ModeSearch(neural, docs, { scheme, index: docIndex() }, 100);
    const hits = (await m.search('items shared original', 'lexical', 3))!;
    // Only a's second passage has these words; the document is found and shown by that passage.
    expect(hits.map((h) => h.id)).toEqual(['a#p1', 'b']);
    const copy = (await m.search('shallow copy list', 'lexical', 3))!;
    expect(copy[0].id).toBe('a#p0');
  });

  it('scores a split document as one record: its score is that of the hand-joined document', async () => {
    const joined = buildLexicalIndex([{ title: 'Shallow copy', text: `${docs[0].text}\n${docs[1].text}` }, docs[2], docs[3]]);
    const want = joined.search('shared').find((r) => r.ref === '0')!.score;
    const m = new ModeSearch(neural, docs, { scheme, index: docIndex() }, 100);
    const [hit] = (await m.search('shared', 'lexical', 3))!;
    expect(hit.docId).toBe('a');
    expect(hit.score).toBe(want);
  });

  it("hybrid shows a document BM25 matched by BM25's passage, even where the q-net prefers another", async () => {
    // The q-net ranks a#p0 above a#p1; BM25's passage for "items shared" is a#p1.
    const neuralA0First = async (_q: string, depth: number) => [3, 0, 2, 1].slice(0, depth).map((doc, i) => ({ doc, score: 4 - i }));
    const m = new ModeSearch(neuralA0First, docs, { scheme, index: docIndex() }, 100);
    const hits = (await m.search('items shared', 'hybrid', 3))!;
    expect(hits.find((h) => h.docId === 'a')!.id).toBe('a#p1');
    expect(hits.find((h) => h.docId === 'c')!.id).toBe('c'); // no BM25 match: the q-net's passage
  });

  it('reads a per-passage (lunr-2) index of an older bundle in every mode', async () => {
    const m = new ModeSearch(neural, docs, { scheme: LEXICAL_SCHEME_PASSAGES, index: buildLexicalIndex(docs) }, 100);
    expect((await m.search('shared', 'lexical', 3))!.map((h) => h.id)).toEqual(['a#p1']);
    const hybrid = (await m.search('copy items', 'hybrid', 4))!;
    expect(new Set(hybrid.map((h) => h.docId))).toEqual(new Set(['a', 'b', 'c']));
  });

  it('refuses a lexical index whose refs are not documents of this bundle, naming the file', async () => {
    const tooMany = buildLexicalIndex([...documentLexicalDocs(docs, documentGroups(docs)), { title: 'extra', text: 'one record too many' }]);
    const m = new ModeSearch(neural, docs, { scheme, index: tooMany, file: 'lexical/lunr.json' }, 100);
    await expect(m.search('copy', 'lexical', 2)).rejects.toThrow(/lexical\/lunr\.json: ref "3" is not a document number of this bundle \(0 … 2\)/);
  });
});

describe('one ranking path and one hit for every mode', () => {
  it('neural search asks the q-net for k passages when every document is one passage, for enough passages to find k documents otherwise', async () => {
    const depths: number[] = [];
    const recording = (order: number[]) => async (_q: string, depth: number) => (
      depths.push(depth), order.slice(0, depth).map((doc, i) => ({ doc, score: 4 - i }))
    );
    const plain = docs.slice(2); // b and c: one passage each
    expect((await new ModeSearch(recording([1, 0]), plain, null, 100).search('copy', 'neural', 1))!.map((h) => h.id)).toEqual(['c']);
    expect((await new ModeSearch(recording([3, 2, 1, 0]), docs, null, 100).search('copy', 'neural', 2))!.map((h) => h.docId)).toEqual(['c', 'b']);
    expect(depths).toEqual([1, 4]); // 4 = all the passages there are (fewer than 4·100)
  });

  it('gives up when the neural ranking does (a newer search started)', async () => {
    const m = new ModeSearch(neural, docs, { scheme, index: docIndex() }, 100);
    expect(await m.search('copy', 'neural', 2, async () => null)).toBeNull();
    expect(await m.search('copy', 'hybrid', 2, async () => null)).toBeNull();
  });

  it('a hit carries its snippet, white space collapsed, and the query words highlighted in it', async () => {
    const text = `Copies\n\n\t  of lists:   a shallow copy.\n${'word '.repeat(60)}`;
    const spaced: DocMetadata[] = [{ id: 'x', title: 'Copy', url: 'https://example.org/x', text, fields: {} }];
    const [hit] = (await new ModeSearch(async () => [{ doc: 0, score: 1 }], spaced, null, 100).search('copying lists', 'neural', 1))!;
    expect(hit.snippet).toBe(snippetOf(text));
    expect(hit.snippet.startsWith('Copies of lists: a shallow copy. word word')).toBe(true);
    expect(hit.snippet.length).toBe(SEARCH_DEFAULTS.snippetChars + 1); // cut, with an ellipsis
    expect(hit.snippet.endsWith('…')).toBe(true);
    expect(hit.highlights.map((r) => hit.snippet.slice(r.start, r.end))).toEqual(['Copies', 'lists', 'copy']);
    expect(hit).toMatchObject({ rank: 1, passage: 0, id: 'x', docId: 'x', title: 'Copy', url: 'https://example.org/x', score: 1 });
  });
});
