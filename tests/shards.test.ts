// `index --shards K` and search over several bundles (issue 18 items 2 and 3): a Cranfield subset
// (the first 150 documents, split into passages by the shipped model's 128-token limit) indexed once
// as one bundle and once as 3 shards. The oracle is the single bundle: for every query judged in the
// subset, in every mode, the shards searched as one collection give the same hits (documents,
// passages, scores, snippets, sections), hence the same nDCG@10; and with filters, facets and a sort.
// Then the refusals: --shards 0 or past the pages, bundles of two models, a shard missing or changed.
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeSearchEngine } from '../src/cli/nodeEngine.ts';
import { DEFAULT_MODEL_DIR } from '../src/cli/modelDir.ts';
import { verifyIndex } from '../src/cli/searchCommands.ts';
import { parseShardList } from '../src/core/formats/shardList.ts';
import { evaluate, parseQrels } from '../src/core/metrics.ts';
import { documentIdOf } from '../src/core/ranking.ts';
import type { SearchMode } from '../src/core/search.ts';
import { cli } from './helpers/smallModel.ts';

const CRANFIELD = path.join(__dirname, '..', '..', 'shared', 'data', 'cranfield');
const DOCS = 150;
const MODES: SearchMode[] = ['neural', 'lexical', 'hybrid'];
const have = existsSync(path.join(CRANFIELD, 'corpus.jsonl')) && existsSync(path.join(DEFAULT_MODEL_DIR, 'model.json'));

let work: string;
let single: NodeSearchEngine;
let sharded: NodeSearchEngine;
const at = (...p: string[]) => path.join(work, ...p);

/** Every file under a folder, by relative path, with its bytes. */
function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) out.set(path.relative(dir, path.join(e.parentPath, e.name)), readFileSync(path.join(e.parentPath, e.name)));
  return out;
}

beforeAll(async () => {
  if (!have) return;
  work = mkdtempSync(path.join(tmpdir(), 'hypencoder-shards-'));
  // A filter and a sort key per document, from its number, so facets and sorting are exercised too.
  const lines = readFileSync(path.join(CRANFIELD, 'corpus.jsonl'), 'utf8')
    .split('\n')
    .slice(0, DOCS)
    .map((l) => {
      const d = JSON.parse(l);
      return JSON.stringify({ ...d, part: Number(d.id) % 3 === 0 ? 'third' : 'rest', year: 1950 + (Number(d.id) % 17) });
    });
  writeFileSync(at('corpus.jsonl'), `${lines.join('\n')}\n`);
  const common = ['--filter-field', 'part', '--sort-field', 'year', '-q'];
  for (const [out, extra] of [
    ['single', []],
    ['sharded', ['--shards', '3']],
  ] as const) {
    const r = cli(['index', at('corpus.jsonl'), '--out', at(out), ...common, ...extra]);
    expect(r.code, r.stderr).toBe(0);
  }
  single = await NodeSearchEngine.open(at('single'), DEFAULT_MODEL_DIR);
  sharded = await NodeSearchEngine.open(at('sharded'), DEFAULT_MODEL_DIR);
}, 120_000);

afterAll(async () => {
  await single?.close();
  await sharded?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!have)('index --shards 3 (Cranfield, first 150 documents)', () => {
  it('writes 3 standard bundles of whole pages, balanced, each verified on its own; a rerun gives the same bytes', async () => {
    const list = parseShardList(readFileSync(at('sharded', 'shards.json')));
    expect(list.shards.map((s) => s.path)).toEqual(['00000', '00001', '00002']);
    expect(list.documents).toBe(DOCS);
    expect(list.passages).toBe(single.passageCount);
    expect(list.lexical).toBe('collection');
    const pagesOf = list.shards.map((s) => new Set(sharded.docs.slice(s.firstPassage, s.firstPassage + s.passages).map(documentIdOf)));
    // No page in two shards, every page in one.
    expect(pagesOf.reduce((n, p) => n + p.size, 0)).toBe(DOCS);
    expect(new Set(pagesOf.flatMap((p) => [...p])).size).toBe(DOCS);
    const sizes = list.shards.map((s) => s.passages);
    console.log(`shards: ${list.shards.map((s) => `${s.path} ${s.documents} documents / ${s.passages} passages`).join(', ')} (single: ${single.passageCount})`);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(0.1 * list.passages);
    for (const s of list.shards) {
      const v = await verifyIndex(at('sharded', s.path), DEFAULT_MODEL_DIR);
      expect(v.message).toMatch(/OK — .*lexical bm25-chunked-v2; .*built with hypencoder-small-glove/);
    }
    const all = cli(['verify', at('sharded')]);
    expect(all.stdout).toMatch(/OK — shard list of 3 shard\(s\), 150 documents/);
    const again = cli(['index', at('corpus.jsonl'), '--out', at('again'), '--filter-field', 'part', '--sort-field', 'year', '--shards', '3', '-q']);
    expect(again.code, again.stderr).toBe(0);
    const a = filesOf(at('sharded'));
    const b = filesOf(at('again'));
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [f, bytes] of a) expect(b.get(f)!.equals(bytes), f).toBe(true);
  }, 60_000);

  it('ranks every judged query as the single bundle in all three modes: the same top 10, the same nDCG@10', async () => {
    const qrels = parseQrels(readFileSync(path.join(CRANFIELD, 'qrels.tsv'), 'utf8'), 'qrels.tsv');
    const inSubset = new Set(single.docs.map(documentIdOf));
    for (const [q, judged] of qrels) if (![...judged.keys()].some((d) => inSubset.has(d))) qrels.delete(q);
    const queries = readFileSync(path.join(CRANFIELD, 'queries.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { id: string; text: string })
      .filter((q) => qrels.has(q.id));
    expect(queries.length).toBeGreaterThan(50);
    for (const mode of MODES) {
      const runs = { single: new Map<string, string[]>(), sharded: new Map<string, string[]>() };
      let same = 0;
      for (const q of queries) {
        const a = await single.search(q.text, mode, 10);
        const b = await sharded.search(q.text, mode, 10);
        expect(b.hits, `${mode} ${q.id}`).toEqual(a.hits);
        expect(b.fusion, `${mode} ${q.id}`).toEqual(a.fusion);
        expect(b.corrections, `${mode} ${q.id}`).toEqual(a.corrections);
        if (JSON.stringify(a.hits.map((h) => h.docId)) === JSON.stringify(b.hits.map((h) => h.docId))) same++;
        runs.single.set(
          q.id,
          a.hits.map((h) => h.docId),
        );
        runs.sharded.set(
          q.id,
          b.hits.map((h) => h.docId),
        );
      }
      const ndcg = { single: evaluate(runs.single, qrels).mean['ndcg@10'], sharded: evaluate(runs.sharded, qrels).mean['ndcg@10'] };
      console.log(
        `${mode}: top 10 identical on ${same}/${queries.length} queries; nDCG@10 single ${ndcg.single.toFixed(4)}, 3 shards ${ndcg.sharded.toFixed(4)}`,
      );
      expect(ndcg.sharded.toFixed(3)).toBe(ndcg.single.toFixed(3));
    }
  }, 60_000);

  it('corrects a misspelt word, filters, counts facets and sorts as the single bundle', async () => {
    for (const mode of MODES) {
      for (const query of ['boundery layer transition', 'supersonic flow over a cone', 'heat transfer in laminar flow']) {
        for (const opts of [{}, { filters: { part: ['third'] } }, { sort: { by: 'year', order: 'desc' as const } }]) {
          const a = await single.search(query, mode, 10, opts);
          const b = await sharded.search(query, mode, 10, opts);
          expect(b.hits, `${mode} ${query} ${JSON.stringify(opts)}`).toEqual(a.hits);
          expect(b.facets).toEqual(a.facets);
          expect(b.corrections).toEqual(a.corrections);
        }
      }
    }
    const typo = await sharded.search('boundery layer', 'lexical', 10);
    expect(typo.corrections?.[0]?.word).toBe('boundery');
    expect((await sharded.search('boundary', 'lexical', 10, { filters: { part: ['third'] } })).facets?.part?.third).toBeGreaterThan(0);
  }, 60_000);

  it('search and eval take --index repeated as they take the shard list', () => {
    const shards = ['00000', '00001', '00002'].flatMap((s) => ['--index', at('sharded', s)]);
    for (const mode of ['lexical', 'hybrid']) {
      const hits = (index: string[]) => {
        const r = cli(['search', ...index, '--mode', mode, '--json', '-k', '10', 'pressure distribution on a wing']);
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stdout).hits;
      };
      expect(hits(shards)).toEqual(hits(['--index', at('single')]));
    }
    const queries = readFileSync(path.join(CRANFIELD, 'queries.jsonl'), 'utf8').split('\n').slice(0, 30);
    writeFileSync(at('queries.jsonl'), `${queries.join('\n')}\n`);
    const evalOn = (index: string[]) => {
      const r = cli(['eval', ...index, '--queries', at('queries.jsonl'), '--qrels', path.join(CRANFIELD, 'qrels.tsv'), '--mode', 'lexical', '--json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const a = evalOn(['--index', at('single')]);
    const b = evalOn(shards);
    expect(b.per_query).toEqual(a.per_query);
    expect(b['ndcg@10']).toBe(a['ndcg@10']);
  }, 60_000);

  it('refuses --shards 0, more shards than pages, and --shards with --locality, writing nothing', () => {
    const corpus = at('corpus.jsonl');
    const zero = cli(['index', corpus, '--out', at('zero'), '--shards', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--shards must be an integer from 1 to 4096, got "0"/);
    const many = cli(['index', corpus, '--out', at('many'), '--shards', String(DOCS + 1), '-q']);
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(/--shards 151: the input has 150 document\(s\); a shard holds whole documents, so at most 150 shards/);
    const locality = cli(['index', corpus, '--out', at('local'), '--shards', '2', '--locality', '-q']);
    expect(locality.code).toBe(2);
    expect(locality.stderr).toMatch(/--shards with --locality/);
    for (const d of ['zero', 'many', 'local']) expect(existsSync(at(d))).toBe(false);
  }, 60_000);

  it('refuses bundles of two models in one search, naming both, and a shard list naming a missing or changed shard', () => {
    // The shipped model under another id: another model.json, so another model for the index.
    cpSync(DEFAULT_MODEL_DIR, at('other-model'), { recursive: true });
    const modelJson = at('other-model', 'model.json');
    writeFileSync(modelJson, readFileSync(modelJson, 'utf8').replace(/"id": "([^"]+)"/, '"id": "$1-copy"'));
    writeFileSync(at('five.jsonl'), `${readFileSync(at('corpus.jsonl'), 'utf8').split('\n').slice(0, 5).join('\n')}\n`);
    expect(cli(['index', at('five.jsonl'), '--model', at('other-model'), '--out', at('other'), '-q']).code).toBe(0);
    for (const mode of ['lexical', 'hybrid']) {
      const r = cli(['search', '--index', at('sharded'), '--index', at('other'), '--mode', mode, 'wing']);
      expect(r.code, mode).toBe(2);
      expect(r.stderr).toMatch(/other was built with model "hypencoder-small-glove-copy" .* but .*sharded.00000 with "hypencoder-small-glove"/);
    }
    cpSync(at('sharded'), at('missing'), { recursive: true });
    rmSync(at('missing', '00001'), { recursive: true });
    const missing = cli(['search', '--index', at('missing'), '--mode', 'lexical', 'wing']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing\/shards\.json: shards\[1\] 00001 is missing/);
    cpSync(at('sharded'), at('changed'), { recursive: true });
    writeFileSync(at('changed', '00002', 'manifest.json'), `${readFileSync(at('changed', '00002', 'manifest.json'), 'utf8')} `);
    const changed = cli(['search', '--index', at('changed'), '--mode', 'lexical', 'wing']);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(
      /changed\/shards\.json: shards\[2\] 00002\/manifest\.json hashes to [0-9a-f]{64}, but the list names [0-9a-f]{64}: the shard was changed/,
    );
    expect(cli(['verify', at('changed')]).stderr).toMatch(/the shard was changed or replaced/);
    cpSync(at('sharded'), at('tampered'), { recursive: true });
    const meta = at('tampered', '00000', 'metadata', '00000.json');
    writeFileSync(meta, readFileSync(meta, 'utf8').replace('wing', 'WING'));
    const tampered = cli(['search', '--index', at('tampered'), '--mode', 'lexical', 'wing']);
    expect(tampered.code).toBe(2);
    expect(tampered.stderr).toMatch(/tampered.00000: metadata\/00000\.json: SHA-256 mismatch/);
  }, 60_000);
});
