import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { EVAL_PAGE } from '../src/cli/browserEngine.ts';
import { runIndex } from '../src/cli/indexCommand.ts';
import { NodeSearchEngine } from '../src/cli/nodeEngine.ts';
import type { SearchMode } from '../src/core/search.ts';
import { MODEL_URL, randomModelFixture } from './helpers/randomModel.ts';
import { untilServed } from './helpers/served.ts';

// `eval --engine browser` and `--engine node` must rank alike: a small corpus is indexed with the
// random e2e model (e2e/helpers/randomModel.ts) by the real indexer, then every query is searched
// in all three modes by the Node engine (Float64 CPU scorer) and by the page's engine (WGSL scorer
// + onnxruntime-web, with src/worker/modeSearch.ts for lexical and hybrid) on the page `eval
// --engine browser` drives. Top-10 documents must be the same, in the same order, except where the
// Node scores of the two documents at a rank are within 1e-4 of the largest |score| (float32 GPU
// scores may swap such near-ties; see modelParity.spec.ts for that tolerance).
const TOL = 1e-4;
const root = join(import.meta.dirname, '..', 'public', 'generated');
const modelDir = join(root, 'e2e-model', 'model');
const indexDir = join(root, 'e2e-eval', 'index');
const INDEX_URL = '/generated/e2e-eval/index/';

const WORDS =
  'wing lift drag flow heat boundary layer shock pressure mach supersonic laminar turbulent nozzle panel flutter buckling cylinder shell plate'.split(' ');
function corpus(n: number): string {
  let s = 9;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  return Array.from({ length: n }, (_, i) => {
    const len = i % 9 === 0 ? 200 : 10 + Math.floor(rnd() * 40); // some longer than the model's 128 tokens
    // Every fourth document has runs of white space and newlines, which a snippet shows as one space.
    const text = Array.from({ length: len }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(i % 4 === 0 ? ' \n\n\t ' : ' ');
    return JSON.stringify({ id: `d${i}`, title: `report ${i}`, text });
  }).join('\n');
}
const QUERIES = [
  'supersonic flutter of panels',
  'heat transfer in laminar boundary layers',
  'shock',
  'buckling of cylinder shells under pressure',
  'nozzle flow mach',
  'report 42',
  'the of and',
  'drag',
];

let node: NodeSearchEngine;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  await randomModelFixture();
  rmSync(join(root, 'e2e-eval'), { recursive: true, force: true });
  mkdirSync(join(root, 'e2e-eval'), { recursive: true });
  const input = join(root, 'e2e-eval', 'corpus.jsonl');
  writeFileSync(input, corpus(400));
  await runIndex(input, { out: indexDir, model: modelDir, tileDocs: 128, quiet: true });
  await untilServed(undefined, `${INDEX_URL}manifest.json`);
  node = await NodeSearchEngine.open(indexDir, modelDir, { scorer: 'reference' }); // the Float64 oracle
});

test.afterAll(async () => {
  await node?.close();
});

test('browser engine = Node engine in lexical, neural and hybrid modes: top-10 of every query', async ({ page }) => {
  await page.goto(EVAL_PAGE);
  await page.waitForFunction(() => window.evalPageReady === true);
  for (const mode of ['lexical', 'neural', 'hybrid'] as SearchMode[]) {
    const run = await page.evaluate(([m, x, qs, mo]) => window.evalSearch(m, x, qs, mo, 10), [
      MODEL_URL,
      INDEX_URL,
      QUERIES.map((text, i) => ({ id: String(i), text })),
      mode,
    ] as const);
    expect(run.info.backend).toBe('webgpu');
    for (const [i, q] of QUERIES.entries()) {
      const want = await node.search(q, mode, 10);
      const got = run.results[String(i)];
      expect(got.length, q).toBe(want.hits.length);
      const scale = Math.max(1e-12, ...want.hits.map((h) => Math.abs(h.score)));
      const nodeScore = new Map(want.hits.map((h) => [h.docId, h.score]));
      for (const [r, h] of want.hits.entries()) {
        if (got[r].docId === h.docId) continue;
        // a swap is allowed only between near-tied documents
        const other = nodeScore.get(got[r].docId);
        expect(other, `${mode} "${q}" rank ${r + 1}: ${got[r].docId} is not in Node's top 10`).toBeDefined();
        expect(Math.abs(other! - h.score), `${mode} "${q}" rank ${r + 1}`).toBeLessThanOrEqual(TOL * scale);
      }
      if (mode === 'lexical') expect(got.map((h) => h.score)).toEqual(want.hits.map((h) => h.score));
      // The same hit is the same to the letter: passage, ids, title, URL, snippet and its highlights (src/core/search.ts).
      for (const [r, h] of want.hits.entries())
        if (got[r].docId === h.docId) expect({ ...got[r], score: 0 }, `${mode} "${q}" rank ${r + 1}`).toEqual({ ...h, score: 0 });
    }
  }
});

test('the search page shows what `hypencoder-web search` returns (neural and lexical)', async ({ page }) => {
  await page.goto(`/?model=${MODEL_URL}&index=${INDEX_URL}`);
  await page.waitForFunction(() => document.body.dataset.ready, undefined, { timeout: 120_000 });
  for (const mode of ['neural', 'lexical'] as SearchMode[]) {
    await page.getByTestId(`mode-${mode}`).check();
    for (const q of QUERIES.slice(0, 3)) {
      await page.getByTestId('search-input').fill(q);
      await page.waitForFunction(
        ([t, m]) => {
          const r = document.querySelector('ol.results');
          // data-ranked-by: keyword results come first while the neural half loads, then the list is ranked in the mode.
          return r?.getAttribute('data-query') === t && r.getAttribute('data-mode') === m && r.getAttribute('data-ranked-by') === m;
        },
        [q, mode] as const,
        { timeout: 60_000 },
      );
      // Each hit as the page shows it: its passage and document ids, title, snippet and the snippet's <mark> ranges.
      const shown = await page.getByTestId('hit').evaluateAll((els) =>
        els.map((e) => {
          const snippet = e.querySelector('.snippet');
          const highlights: { start: number; end: number }[] = [];
          let at = 0;
          for (const n of snippet?.childNodes ?? []) {
            const end = at + (n.textContent ?? '').length;
            if (n.nodeName === 'MARK') highlights.push({ start: at, end });
            at = end;
          }
          const { docId, documentId } = (e as HTMLElement).dataset;
          return { id: docId!, docId: documentId!, title: e.querySelector('.hit-title')!.textContent, snippet: snippet?.textContent ?? '', highlights };
        }),
      );
      const want = (await node.search(q, mode, 10)).hits.map((h) => ({
        id: h.id,
        docId: h.docId,
        title: h.title || h.id,
        snippet: h.snippet,
        highlights: h.highlights,
      }));
      expect(shown.length, `${mode} "${q}"`).toBe(want.length);
      // The same hits, to the letter; the order may differ only between near-ties (checked score-wise above).
      const byId = (hits: typeof want) => [...hits].sort((a, b) => a.id.localeCompare(b.id));
      expect(byId(shown), `${mode} "${q}"`).toEqual(byId(want));
    }
  }
});
