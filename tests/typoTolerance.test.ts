// Typo tolerance (src/core/typoTolerance.ts over the chunked lexical index's word list): Meilisearch's
// counting rules, the corrected query scored exactly as Lunr scores the same words with clause boosts
// (an independent implementation of the weighted query vector), the word list read only when a
// query needs it, and end to end through `index`, `search` and `verify`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import lunr from 'lunr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIndexBundle } from '../src/cli/readBundle.ts';
import { buildLexicalIndex, type LexicalDoc, type LexicalHit } from '../src/core/lexical.ts';
import { lexicalStem } from '../src/core/lexicalText.ts';
import { ChunkedLexicalIndex, LEXICAL_DICTIONARY_FILE, chunkLexicalIndex, parseLexicalDictionary } from '../src/core/lexicalChunked.ts';
import { verifyMerkleMember } from '../src/core/formats/merkle.ts';
import { LEXICAL_WORDS_FILE, TYPO_DEFAULTS, WordList, allowedTypos, corpusWordList, parseWordList, typoCost } from '../src/core/typoTolerance.ts';
import { cli, makeSmallModel } from './helpers/smallModel.ts';
import { wordDrawer } from './helpers/wordCorpus.ts';

describe('typo counting (Meilisearch defaults)', () => {
  it('allows no typo below 5 characters, one from 5, two from 9', () => {
    expect(['flow', 'nozle', 'pressure', 'turbulent', 'aerodynamically'].map(allowedTypos)).toEqual([0, 1, 1, 2, 2]);
  });

  it('counts a swap of neighbours as one edit, and an edit of the first letter as two', () => {
    expect(typoCost('presusre', 'pressure')).toBe(1); // transposition
    expect(typoCost('presure', 'pressure')).toBe(1); // deletion
    expect(typoCost('pressore', 'pressure')).toBe(1); // substitution
    expect(typoCost('bressure', 'pressure')).toBe(2); // first letter
    expect(typoCost('ressure', 'pressure')).toBe(2); // first letter dropped
  });

  it('finds the nearest words within the allowance, all of them at the smallest cost', () => {
    const list = new WordList(['lamina', 'laminar', 'laminas', 'layer', 'pressure', 'turbulent'].sort());
    expect(list.nearest('laminer')).toEqual({ words: ['laminar'], cost: 1 });
    expect(list.nearest('lamin')).toEqual({ words: ['lamina'], cost: 1 });
    expect(list.nearest('laminaz')).toEqual({ words: ['lamina', 'laminar', 'laminas'], cost: 1 });
    expect(list.nearest('turbolunt')).toEqual({ words: ['turbulent'], cost: 2 });
    expect(list.nearest('lyer')).toEqual({ words: [], cost: 0 }); // 4 characters: no typo allowed
    expect(list.nearest('qqqqqqq')).toEqual({ words: [], cost: 0 });
  });
});

const WORDS =
  'wing lift drag flow heat boundary layer shock pressure mach supersonic laminar turbulent nozzle panel flutter buckling cylinder shell plate configuration'.split(
    ' ',
  );
function corpus(n: number): LexicalDoc[] {
  const { rnd, draw: words } = wordDrawer(WORDS, 11);
  return Array.from({ length: n }, (_, i) => ({ title: `${words(2)} ${i}`, text: words(5 + Math.floor(rnd() * 40)) }));
}

/** Lunr's own scoring of the stems with these clause boosts (its query vector holds each boost). */
function lunrBoosted(index: lunr.Index, terms: Map<string, number>): LexicalHit[] {
  const hits = index
    .query((q) => {
      for (const [stem, boost] of terms) q.term(stem, { boost, usePipeline: false, presence: lunr.Query.presence.OPTIONAL });
    })
    .map((r) => ({ doc: Number(r.ref), score: r.score }));
  return hits.sort((a, b) => b.score - a.score || a.doc - b.doc);
}

describe('the chunked index corrects words no document holds', () => {
  const docs = corpus(200);
  const lunrIndex = buildLexicalIndex(docs);
  const wordFile = corpusWordList(docs);

  async function open() {
    const files = await chunkLexicalIndex(lunrIndex, docs.length, 256);
    const dict = parseLexicalDictionary(files.dictionary.data, LEXICAL_DICTIONARY_FILE, files.chunks);
    const reads = { chunks: 0, words: 0 };
    const index = new ChunkedLexicalIndex(
      dict,
      async (j) => (reads.chunks++, verifyMerkleMember(files.members[j], j, files.chunks.count, files.chunks.root, 'c')),
      async () => (reads.words++, wordFile.data),
    );
    return { index, reads };
  }

  it('ranks a corrected query as Lunr ranks the typed words plus the corrections at their weight', async () => {
    const { index } = await open();
    const cases: [string, string, string[]][] = [
      ['shock presure', 'presure', ['pressure']],
      ['flutter of a cilinder shell', 'cilinder', ['cylinder']],
      ['shock bressure', 'bressure', []], // an edit of the first letter is two typos, over an 8-letter word's one
      ['laminar boundary layr', 'layr', []], // 4 characters: not corrected
      ['turbolunt nozzle', 'turbolunt', ['turbulent']],
      ['configuraton', 'configuraton', ['configuration']], // its stem is four edits from the corpus's
    ];
    for (const [query, word, to] of cases) {
      const q = await index.prepare(query, true);
      expect(q.corrections, query).toEqual(to.length ? [{ word, to }] : []);
      const want = new Map<string, number>();
      for (const t of query.split(' ')) {
        if (['of', 'a'].includes(t)) continue;
        const stem = lexicalStem(t);
        want.set(stem, (want.get(stem) ?? 0) + 1);
      }
      for (const w of to) want.set(lexicalStem(w), TYPO_DEFAULTS.correctionWeight);
      expect(q.terms, query).toEqual(want);
      const got = index.hits(q);
      const oracle = lunrBoosted(lunrIndex, want);
      expect(
        got.map((h) => h.doc),
        query,
      ).toEqual(oracle.map((h) => h.doc));
      for (const [i, h] of got.entries()) expect(Math.abs(h.score - oracle[i].score), `${query} #${i}`).toBeLessThan(1e-9 * Math.max(1, oracle[i].score));
      // Without typo tolerance the misspelt word matches nothing.
      const exact = await index.prepare(query, false);
      expect(exact.corrections).toEqual([]);
    }
  });

  it('reads the word list only when a word of a typo-able length is missing, and once', async () => {
    const { index, reads } = await open();
    await index.prepare('shock pressure wing', true);
    await index.prepare('flow xyz', true); // "xyz": too short for a typo
    expect(reads.words).toBe(0);
    await index.prepare('shock presure', true);
    await index.prepare('nozle flutter', true);
    expect(reads.words).toBe(1);
    await index.prepare('shock presure', false);
    expect(reads.words).toBe(1);
  });

  it('an index without a word list searches words as typed', async () => {
    const files = await chunkLexicalIndex(lunrIndex, docs.length, 256);
    const dict = parseLexicalDictionary(files.dictionary.data, LEXICAL_DICTIONARY_FILE, files.chunks);
    const index = new ChunkedLexicalIndex(dict, async (j) => verifyMerkleMember(files.members[j], j, files.chunks.count, files.chunks.root, 'c'));
    expect(index.hasWords).toBe(false);
    expect((await index.prepare('shock presure', true)).corrections).toEqual([]);
  });

  it('refuses a damaged word list, naming the file and line', async () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(() => parseWordList(enc('laminar\nmap\n'), LEXICAL_WORDS_FILE)).toThrow(/words\.txt:2: "map" is not a word of 4–32 characters/);
    expect(() => parseWordList(enc('shock\nlaminar\n'), LEXICAL_WORDS_FILE)).toThrow(/words\.txt:2: "laminar" must come after "shock"/);
    expect(() => parseWordList(enc('laminar\nshock'), LEXICAL_WORDS_FILE)).toThrow(/last line is not ended/);
    expect(() => parseWordList(new Uint8Array([0xff, 0x0a]), LEXICAL_WORDS_FILE)).toThrow(/words\.txt: is not UTF-8/);
    // A word no document holds is refused by the full check (verify).
    const files = await chunkLexicalIndex(lunrIndex, docs.length, 256);
    const dict = parseLexicalDictionary(files.dictionary.data, LEXICAL_DICTIONARY_FILE, files.chunks);
    const bogus = new ChunkedLexicalIndex(
      dict,
      async (j) => verifyMerkleMember(files.members[j], j, files.chunks.count, files.chunks.root, 'c'),
      async () => enc('laminar\nzeppelin\n'),
    );
    await expect(bogus.prepareAll()).rejects.toThrow(/words\.txt:2: "zeppelin" is not a word of any document/);
  });
});

describe('index, search and verify with typo tolerance', () => {
  let work: string;
  let model: string;
  let out: string;

  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'hypencoder-typos-'));
    model = makeSmallModel(work);
    const lines = corpus(40).map((d, i) => JSON.stringify({ id: `d${i}`, title: d.title, text: d.text, url: `https://example.org/${i}` }));
    writeFileSync(path.join(work, 'corpus.jsonl'), `${lines.join('\n')}\n`);
    out = path.join(work, 'index');
    const r = cli(['index', path.join(work, 'corpus.jsonl'), '--model', model, '--out', out, '-q']);
    if (r.code !== 0) throw new Error(r.stderr);
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('writes the word list, verifies it, and corrects a misspelt query in lexical and hybrid mode', async () => {
    const idx = await readIndexBundle(out);
    expect(idx.manifest.lexical?.raw.words).toBe(LEXICAL_WORDS_FILE);
    expect(idx.manifest.files.some((f) => f.path === LEXICAL_WORDS_FILE && f.kind === 'lexical')).toBe(true);
    expect(cli(['verify', out, '--model', model]).stdout).toMatch(/OK — .*lexical bm25-chunked-v2/);
    for (const mode of ['lexical', 'hybrid']) {
      const search = (...extra: string[]) => cli(['search', '--index', out, '--model', model, '--mode', mode, '--json', '-k', '5', ...extra]);
      const typo = search('flutter presure');
      const right = search('flutter pressure');
      expect(typo.code, typo.stderr).toBe(0);
      expect(typo.stderr).toContain('note: no document has "presure"; also searched "pressure"');
      const got = JSON.parse(typo.stdout);
      expect(got.corrections).toEqual([{ word: 'presure', to: ['pressure'] }]);
      // The corrected word is highlighted where it matched.
      const marked = got.hits.flatMap((h: { snippet: string; highlights: { start: number; end: number }[] }) =>
        h.highlights.map((r) => h.snippet.slice(r.start, r.end).toLowerCase()),
      );
      expect(marked).toContain('pressure');
      // A typed word outweighs a guess, so the typo'd query is not the correct one; but it finds pressure's documents.
      const rightIds = new Set(JSON.parse(right.stdout).hits.map((h: { docId: string }) => h.docId));
      expect(got.hits.some((h: { docId: string }) => rightIds.has(h.docId))).toBe(true);
      const off = search('--no-typos', 'flutter presure');
      expect(off.stderr).not.toContain('no document has');
      expect(JSON.parse(off.stdout).corrections).toBeUndefined();
    }
  }, 120_000);
});
