// `hypencoder-web index --lexical chunked` end to end: the bundle verifies, and lexical and hybrid
// search rank exactly as over the same corpus indexed with the default Lunr scheme.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIndexBundle } from '../src/cli/readBundle.ts';
import { cli, makeSmallModel } from './helpers/smallModel.ts';

let work: string;
let model: string;
const WORDS =
  'wing lift drag flow heat boundary layer shock pressure mach supersonic laminar turbulent nozzle panel flutter buckling cylinder shell plate'.split(' ');

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'hypencoder-lexchunk-cli-'));
  model = makeSmallModel(work);
  const lines = Array.from({ length: 60 }, (_, i) => {
    const text = Array.from({ length: 10 + ((i * 7) % 40) }, (_, k) => WORDS[(i * 3 + k * k) % WORDS.length]).join(' ');
    return JSON.stringify({ id: `d${i}`, title: `${WORDS[i % WORDS.length]} note ${i}`, text, url: `https://example.org/${i}` });
  });
  writeFileSync(path.join(work, 'corpus.jsonl'), `${lines.join('\n')}\n`);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('index --lexical chunked', () => {
  it('verifies, and ranks lexical and hybrid search as the Lunr scheme does', async () => {
    const corpus = path.join(work, 'corpus.jsonl');
    const lunr = path.join(work, 'lunr');
    const chunked = path.join(work, 'chunked');
    expect(cli(['index', corpus, '--model', model, '--out', lunr, '-q']).code).toBe(0);
    const built = cli(['index', corpus, '--model', model, '--out', chunked, '--lexical', 'chunked', '-q', '--json']);
    expect(built.code).toBe(0);
    expect(JSON.parse(built.stdout).lexical.scheme).toBe('bm25-chunked-v2');
    const idx = await readIndexBundle(chunked);
    expect(idx.manifest.lexical?.scheme).toBe('bm25-chunked-v2');
    expect(idx.manifest.files.filter((f) => f.kind === 'lexical').map((f) => f.path)).toContain('lexical/dictionary.json');
    const v = cli(['verify', chunked, '--model', model]);
    expect(v.stdout).toMatch(/OK — .*lexical bm25-chunked-v2/);
    for (const mode of ['lexical', 'hybrid']) {
      for (const q of ['shock wave boundary', 'flutter of a thin panel', 'note 17', 'the of and']) {
        const hits = (dir: string) => {
          const r = cli(['search', '--index', dir, '--model', model, '--mode', mode, '--json', '-k', '10', q]);
          expect(r.code, r.stderr).toBe(0);
          return JSON.parse(r.stdout).hits;
        };
        expect(hits(chunked), `${mode}: ${q}`).toEqual(hits(lunr));
      }
    }
  }, 180_000);

  it('refuses an unknown --lexical kind before any work; --no-lexical still writes none', async () => {
    const r = cli(['index', path.join(work, 'corpus.jsonl'), '--model', model, '--out', path.join(work, 'bad'), '--lexical', 'pagefind']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--lexical <kind>.*'pagefind' is invalid.*chunked, lunr/);
    const none = path.join(work, 'none');
    expect(cli(['index', path.join(work, 'corpus.jsonl'), '--model', model, '--out', none, '--no-lexical', '--no-graph', '-q']).code).toBe(0);
    const idx = await readIndexBundle(none);
    expect(idx.manifest.lexical).toBeNull();
    expect(idx.manifest.files.some((f) => f.kind === 'lexical')).toBe(false);
  }, 60_000);
});
