import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { EVAL_PAGE } from '../src/cli/browserEngine.ts';
import { runIndex } from '../src/cli/indexCommand.ts';
import { NodeSearchEngine } from '../src/cli/nodeEngine.ts';
import type { SearchMode } from '../src/core/search.ts';
import { merkleMemberPath } from '../src/core/formats/index.ts';
import type { ChunkedLexicalIndex } from '../src/core/lexicalChunked.ts';
import { MODEL_URL, randomModelFixture } from './helpers/randomModel.ts';
import { untilServed } from './helpers/served.ts';

// The chunked lexical index (the indexer's default, scheme bm25-chunked-v2) in the browser: the
// page's engine fetches the dictionary and only the chunks of each query's terms (each verified
// against the set's Merkle root), refuses a corrupted chunk naming its file, and ranks lexical search exactly as the Node engine does over the same bundle, and
// hybrid search alike up to the float32 near-ties evalEngines.spec.ts allows (1e-4 of the top score).
const root = join(import.meta.dirname, '..', 'public', 'generated');
const modelDir = join(root, 'e2e-model', 'model');
const indexDir = join(root, 'e2e-lexchunk', 'index');
const INDEX_URL = '/generated/e2e-lexchunk/index/';
const WORDS = 'wing lift drag flow heat boundary layer shock pressure mach supersonic laminar turbulent nozzle panel flutter buckling cylinder shell'.split(
  ' ',
);
// The quoted one is checked in BM25's best documents' text, which the page fetches first.
const QUERIES = ['supersonic flutter of panels', 'shock', 'heat transfer in laminar boundary layers', 'note 42', 'the of and', '"boundary layer" shock'];

let node: NodeSearchEngine;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  await randomModelFixture();
  rmSync(join(root, 'e2e-lexchunk'), { recursive: true, force: true });
  mkdirSync(join(root, 'e2e-lexchunk'), { recursive: true });
  const input = join(root, 'e2e-lexchunk', 'corpus.jsonl');
  const lines = Array.from({ length: 200 }, (_, i) => {
    const text = Array.from({ length: 8 + ((i * 13) % 50) }, (_, k) => WORDS[(i * 5 + k * k + k) % WORDS.length]).join(' ');
    return JSON.stringify({ id: `d${i}`, title: `note ${i}`, text });
  });
  writeFileSync(input, lines.join('\n'));
  await runIndex(input, { out: indexDir, model: modelDir, tileDocs: 128, lexical: 'chunked', quiet: true });
  await untilServed(undefined, `${INDEX_URL}manifest.json`);
  node = await NodeSearchEngine.open(indexDir, modelDir, { scorer: 'reference' });
});

test.afterAll(async () => {
  await node?.close();
});

/** The eval page over the chunked bundle: the lexical files it fetches, and a query set searched at k = 10. */
async function openEvalPage(page: Page) {
  const lexicalFetches: string[] = [];
  page.on('request', (r) => {
    const m = /\/e2e-lexchunk\/index\/(lexical\/.*)$/.exec(new URL(r.url()).pathname);
    if (m) lexicalFetches.push(m[1]);
  });
  await page.goto(EVAL_PAGE);
  await page.waitForFunction(() => window.evalPageReady === true);
  const evalSearch = (mode: SearchMode, queries: string[], typos: boolean) =>
    page.evaluate(([m, x, qs, mo, ty]) => window.evalSearch(m, x, qs, mo, 10, ty), [
      MODEL_URL,
      INDEX_URL,
      queries.map((text, i) => ({ id: String(i), text })),
      mode,
      typos,
    ] as const);
  return { lexicalFetches, evalSearch };
}

test('browser engine = Node engine over a chunked lexical index, fetching only the query terms’ chunks', async ({ page }) => {
  const { lexicalFetches, evalSearch } = await openEvalPage(page);
  const search = (mode: SearchMode, queries: string[]) => evalSearch(mode, queries, true);
  expect((node.index.manifest.lexical!.raw.chunks as { count: number }).count).toBeGreaterThan(1);
  await search('lexical', ['shock']);
  expect(lexicalFetches).toEqual(['lexical/dictionary.json', expect.stringMatching(/^lexical\/chunks\/\d{5}\.bin$/)]);
  for (const mode of ['lexical', 'hybrid'] as SearchMode[]) {
    const run = await search(mode, QUERIES);
    for (const [i, q] of QUERIES.entries()) {
      const want = (await node.search(q, mode, 10)).hits;
      const got = run.results[String(i)];
      if (mode === 'lexical') {
        expect(got, q).toEqual(want);
        continue;
      }
      expect(got.length, q).toBe(want.length);
      const scale = Math.max(1e-12, ...want.map((h) => Math.abs(h.score)));
      const nodeScore = new Map(want.map((h) => [h.docId, h.score]));
      for (const [r, h] of want.entries()) {
        if (got[r].docId !== h.docId) expect(Math.abs(nodeScore.get(got[r].docId)! - h.score), `hybrid "${q}" rank ${r + 1}`).toBeLessThanOrEqual(1e-4 * scale);
      }
    }
  }
});

test('typo tolerance in the page engine: the word list fetched only for a misspelt query, then ranked as the Node engine ranks it', async ({ page }) => {
  const { lexicalFetches, evalSearch } = await openEvalPage(page);
  const search = (queries: string[], typos: boolean) => evalSearch('lexical', queries, typos);
  await search(['supersonic flutter'], true);
  expect(lexicalFetches).not.toContain('lexical/words.txt');
  const misspelt = ['supersonik flutter', 'turbulant boundery layer', 'cilinder shell buckling'];
  const on = await search(misspelt, true);
  expect(lexicalFetches.filter((f) => f === 'lexical/words.txt')).toHaveLength(1);
  const off = await search(misspelt, false);
  for (const [i, q] of misspelt.entries()) {
    const want = await node.search(q, 'lexical', 10, { typos: true });
    expect(want.corrections?.length, q).toBeGreaterThan(0);
    expect(on.results[String(i)], q).toEqual(want.hits);
    expect(off.results[String(i)], q).toEqual((await node.search(q, 'lexical', 10, { typos: false })).hits);
    expect(on.results[String(i)], q).not.toEqual(off.results[String(i)]);
  }
});

test('a corrupted chunk is refused through the page engine, the file named', async ({ page }) => {
  // A copy of the bundle with one byte of the chunk holding "shock" flipped (its payload: the proof still hashes, the root does not).
  const bad = join(root, 'e2e-lexchunk-bad', 'index');
  rmSync(join(root, 'e2e-lexchunk-bad'), { recursive: true, force: true });
  cpSync(indexDir, bad, { recursive: true });
  const index = (node as unknown as { lexicalRanker: { index: ChunkedLexicalIndex } }).lexicalRanker.index;
  const file = merkleMemberPath(index.dictionary.chunks.folder, index.chunkOf('shock'));
  const bytes = readFileSync(join(bad, file));
  bytes[2] ^= 0x40;
  writeFileSync(join(bad, file), bytes);
  await untilServed(undefined, '/generated/e2e-lexchunk-bad/index/manifest.json');
  await page.goto(EVAL_PAGE);
  await page.waitForFunction(() => window.evalPageReady === true);
  const error = await page.evaluate(
    ([m, x]) =>
      window.evalSearch(m, x, [{ id: '0', text: 'shock' }], 'lexical', 10).then(
        () => 'no error',
        (e: Error) => e.message,
      ),
    [MODEL_URL, '/generated/e2e-lexchunk-bad/index/'] as const,
  );
  expect(error).toContain(`${file}: SHA-256 mismatch`);
  rmSync(join(root, 'e2e-lexchunk-bad'), { recursive: true, force: true });
});
