// What typo tolerance does to ranking quality, one JSON line per (queries, mode, typos): a judged
// query set as written ("clean") and with one typo in each query ("typo": its longest word of 5 or more
// letters gets one seeded edit — a substitution, deletion, insertion or swap of neighbours, never at
// the first letter, as people rarely mistype it), each evaluated by `hypencoder-web eval` with typo
// tolerance on and off; with --pagefind-site, also Pagefind's own search (its JS API in headless
// Chromium, over a folder `npx pagefind --site` indexed; its results' URLs judged by their file name,
// as our folder indexer names pages). Each row has nDCG@10, MRR@10, recall@100 and found@5 (the share
// of queries with a relevant page in the top 5). Usage:
//   npx tsx bench/typoTolerance.ts --index DIR --queries F --qrels F [--model DIR] [--modes lexical,hybrid]
//     [--seed 1] [--name NAME] [--pagefind-site DIR]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { seededRandom } from '../src/core/qnet.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    index: { type: 'string' },
    queries: { type: 'string' },
    qrels: { type: 'string' },
    model: { type: 'string', default: join(root, 'models', 'default') },
    modes: { type: 'string', default: 'lexical,hybrid' },
    seed: { type: 'string', default: '1' },
    name: { type: 'string' },
    'pagefind-site': { type: 'string' },
  },
});
const FOUND_AT = 5;

/** Judged relevant pages per query (qrels: TREC "qid 0 docid rel" or "qid docid rel"). */
function readQrels(file: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3 || !/^\d+$/.test(f[f.length - 1]) || Number(f[f.length - 1]) <= 0) continue;
    const doc = f[f.length - 2];
    if (!out.has(f[0])) out.set(f[0], new Set());
    out.get(f[0])!.add(doc);
  }
  return out;
}
const judged = readQrels(opt.qrels!);

/** The share of judged queries with a relevant page among their first FOUND_AT. */
function foundAt(ranked: Map<string, string[]>): number {
  let found = 0;
  for (const [qid, rel] of judged) if ((ranked.get(qid) ?? []).slice(0, FOUND_AT).some((d) => rel.has(d))) found++;
  return Number((found / judged.size).toFixed(4));
}

/** A TREC run file (qid Q0 docid rank score tag) as each query's documents in rank order. */
function readRun(file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f.length < 6) continue;
    if (!out.has(f[0])) out.set(f[0], []);
    out.get(f[0])!.push(f[2]);
  }
  return out;
}
if (!opt.index || !opt.queries || !opt.qrels) {
  console.error('typoTolerance: --index, --queries and --qrels are required');
  process.exit(2);
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
/** One edit of `word` at a position after its first letter; never the word itself. */
function misspell(word: string, rnd: () => number): string {
  for (;;) {
    const kind = Math.floor(rnd() * 4);
    const at = 1 + Math.floor(rnd() * (word.length - 1));
    const letter = LETTERS[Math.floor(rnd() * LETTERS.length)];
    const out =
      kind === 0
        ? word.slice(0, at) + letter + word.slice(at + 1)
        : kind === 1
          ? word.slice(0, at) + word.slice(at + 1)
          : kind === 2
            ? word.slice(0, at) + letter + word.slice(at)
            : at + 1 < word.length
              ? word.slice(0, at) + word[at + 1] + word[at] + word.slice(at + 2)
              : word;
    if (out !== word) return out;
  }
}

const rnd = seededRandom(Number(opt.seed)); // the same typo'd set on every run
const clean = readFileSync(opt.queries, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as { id: string; text: string });
let misspelt = 0;
const typo = clean.map((q) => {
  const words = [...q.text.matchAll(/\p{L}{5,}/gu)].map((m) => m[0]);
  if (words.length === 0) return q;
  const longest = words.reduce((a, b) => (b.length > a.length ? b : a));
  misspelt++;
  const at = q.text.indexOf(longest);
  return { id: q.id, text: q.text.slice(0, at) + misspell(longest.toLowerCase(), rnd) + q.text.slice(at + longest.length) };
});

const work = mkdtempSync(join(tmpdir(), 'typo-bench-'));
try {
  const sets = { clean: opt.queries, typo: join(work, 'typo.jsonl') };
  writeFileSync(sets.typo, `${typo.map((q) => JSON.stringify(q)).join('\n')}\n`);
  for (const mode of opt.modes.split(',')) {
    for (const [set, file] of Object.entries(sets)) {
      for (const typos of [false, true]) {
        const run = join(work, 'run.txt');
        const args = ['eval', '--index', opt.index, '--queries', file, '--qrels', opt.qrels, '--model', opt.model, '--mode', mode, '--json', '--run', run];
        if (!typos) args.push('--no-typos');
        const t0 = Date.now();
        const r = spawnSync(process.execPath, [join(root, 'bin', 'hypencoder-web.js'), ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
        if (r.status !== 0) {
          console.error(r.stderr || r.stdout);
          process.exit(r.status ?? 1);
        }
        const e = JSON.parse(r.stdout);
        const row = {
          bench: 'typo-tolerance',
          name: opt.name ?? opt.queries,
          queries: set,
          misspelt: set === 'typo' ? misspelt : 0,
          mode,
          typos,
          'ndcg@10': Number(e['ndcg@10'].toFixed(4)),
          'mrr@10': Number(e['mrr@10'].toFixed(4)),
          'recall@100': Number(e['recall@100'].toFixed(4)),
          [`found@${FOUND_AT}`]: foundAt(readRun(run)),
          n: e.queries,
          seed: Number(opt.seed),
          seconds: Number(((Date.now() - t0) / 1000).toFixed(1)),
        };
        process.stdout.write(`${JSON.stringify(row)}\n`);
      }
    }
  }
  if (opt['pagefind-site']) {
    const { launchChromium } = await import('../scripts/lib/browser.ts');
    const { startCountingServer } = await import('./lib/countingServer.ts');
    const server = await startCountingServer(opt['pagefind-site']);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/pagefind/pagefind-entry.json`);
      for (const [set, queries] of Object.entries({ clean, typo })) {
        const t0 = Date.now();
        const urls = await page.evaluate(
          async ([qs, k]) => {
            const pf = await import(/* @vite-ignore */ `${location.origin}/pagefind/pagefind.js`);
            const out: Record<string, string[]> = {};
            for (const q of qs) {
              const r = await pf.search(q.text);
              out[q.id] = await Promise.all(r.results.slice(0, k).map(async (x: { data: () => Promise<{ url: string }> }) => (await x.data()).url));
            }
            return out;
          },
          [queries, FOUND_AT] as const,
        );
        // Pagefind's URL → the page's file name, as the folder indexer names the page.
        const ranked = new Map(Object.entries(urls).map(([id, us]) => [id, us.map((u) => decodeURIComponent(u.split(/[?#]/)[0].split('/').pop() ?? ''))]));
        const row = {
          bench: 'typo-tolerance',
          name: opt.name ?? opt.queries,
          queries: set,
          misspelt: set === 'typo' ? misspelt : 0,
          mode: 'pagefind',
          [`found@${FOUND_AT}`]: foundAt(ranked),
          n: judged.size,
          seed: Number(opt.seed),
          seconds: Number(((Date.now() - t0) / 1000).toFixed(1)),
        };
        process.stdout.write(`${JSON.stringify(row)}\n`);
      }
    } finally {
      await browser.close();
      await server.close();
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
