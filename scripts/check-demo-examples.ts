// Checks the demo's example queries (data/demo/example-queries.json) against a demo index:
//   node --import tsx scripts/check-demo-examples.ts [--index public/generated/demo/index] [--model <dir>]
//        [--modes lexical,neural,hybrid] [--k 10]
// For each query and mode: the rank (1..k, one hit per document) of the first hit on a page the
// example expects, or null. Prints one JSON object. Neural and hybrid need the model the index was
// built with (default: models/default/ when the index was built with it; without a model, lexical only).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { NodeSearchEngine } from '../src/cli/nodeEngine.ts';
import { isMain, orExit } from './lib/main.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const EXAMPLES_FILE = join(root, 'data', 'demo', 'example-queries.json');

/** One example query: the pages that answer it, and (for people) what the right passage says. */
export interface Example {
  query: string;
  expect: string[];
  answer?: string;
}

type Mode = Parameters<NodeSearchEngine['search']>[1];

/** Per mode: the rank of the first hit on an expected page (null: none in the top k), that hit, and the top hit. */
interface ModeRow {
  rank: number | null;
  hit: string | null;
  top1: { title: string; url: string } | null;
}

/** Reads and validates the examples file; a bad entry is refused naming the file, the entry and the field. */
export function readExamples(file = EXAMPLES_FILE): Example[] {
  let data: { examples?: unknown } | null;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  if (!data || !Array.isArray(data.examples) || data.examples.length === 0) throw new Error(`${file}: "examples" must be a non-empty array`);
  data.examples.forEach((ex: Partial<Record<keyof Example, unknown>> | null, i) => {
    const at = `${file}: examples[${i}]`;
    if (!ex || typeof ex !== 'object') throw new Error(`${at}: not an object`);
    if (typeof ex.query !== 'string' || ex.query.trim() === '') throw new Error(`${at}.query: must be a non-empty string`);
    if (!Array.isArray(ex.expect) || ex.expect.length === 0 || ex.expect.some((p: unknown) => typeof p !== 'string' || p === ''))
      throw new Error(`${at}.expect: must be a non-empty array of page paths (e.g. "library/copy.html")`);
    if (ex.answer !== undefined && typeof ex.answer !== 'string') throw new Error(`${at}.answer: must be a string`);
  });
  return data.examples as Example[];
}

/** A hit is on an expected page when its document id is `<page>:p<k>` (the corpus's ids). */
export function pageOf(docId: string): string {
  const i = docId.lastIndexOf(':p');
  return i > 0 ? docId.slice(0, i) : docId;
}

async function main(): Promise<void> {
  const { values: o } = parseArgs({
    options: {
      index: { type: 'string', default: join(root, 'public', 'generated', 'demo', 'index') },
      model: { type: 'string' },
      modes: { type: 'string' },
      k: { type: 'string', default: '10' },
    },
  });
  const examples = readExamples();
  const k = Number(o.k);
  const defaultModel = join(root, 'models', 'default');
  let model: string | null = o.model ?? null;
  if (!model && existsSync(join(defaultModel, 'model.json'))) {
    const manifest = JSON.parse(readFileSync(join(o.index, 'manifest.json'), 'utf8'));
    const modelSha = createHash('sha256')
      .update(readFileSync(join(defaultModel, 'model.json')))
      .digest('hex');
    if (manifest.model?.sha256 === modelSha) model = defaultModel;
  }
  const modes = (o.modes ?? (model ? 'lexical,neural,hybrid' : 'lexical')).split(',') as Mode[];
  if (!model && modes.some((m) => m !== 'lexical')) throw new Error('neural and hybrid need --model <the model the index was built with>');
  // Loaded here, not at the top: the tests that read the examples do not load the engine.
  const { NodeSearchEngine } = await import('../src/cli/nodeEngine.ts');
  const engine = await NodeSearchEngine.open(o.index, model);
  const rows: (Pick<Example, 'query' | 'expect'> & Partial<Record<Mode, ModeRow>>)[] = [];
  for (const ex of examples) {
    const row: (typeof rows)[number] = { query: ex.query, expect: ex.expect };
    for (const mode of modes) {
      const r = await engine.search(ex.query, mode, k);
      const at = r.hits.findIndex((h) => ex.expect.includes(pageOf(h.docId)));
      row[mode] = {
        rank: at < 0 ? null : at + 1,
        hit: at < 0 ? null : r.hits[at].url,
        top1: r.hits[0] ? { title: r.hits[0].title, url: r.hits[0].url } : null,
      };
    }
    rows.push(row);
  }
  await engine.close();
  const summary = Object.fromEntries(
    modes.map((m) => [
      m,
      { found: rows.filter((r) => typeof r[m]?.rank === 'number').length, top1: rows.filter((r) => r[m]?.rank === 1).length, of: rows.length },
    ]),
  );
  process.stdout.write(`${JSON.stringify({ index: o.index, model, k, summary, examples: rows }, null, 1)}\n`);
}

if (isMain(import.meta.url)) await orExit('check-demo-examples', main, 2);
