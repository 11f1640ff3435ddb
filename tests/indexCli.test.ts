// `hypencoder-web index / verify / search / eval` end to end through bin/hypencoder-web.js, on a
// small random-weight model (tests/helpers/smallModel.ts): bad input refused with file:line and
// nothing written, folders of pages, determinism, resumption after a kill, --force, eval output.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocEncoder } from '../src/cli/docEncoder.ts';
import { DEFAULT_MODEL_DIR } from '../src/cli/modelDir.ts';
import { readIndexBundle, readModelBundle } from '../src/cli/readBundle.ts';
import { LEXICAL_SCHEME_DOCUMENTS, LexicalRanker, loadLexicalIndex, lexicalSearch } from '../src/core/lexical.ts';
import { documentGroups } from '../src/core/ranking.ts';
import { BertWordPieceTokenizer } from '../src/core/tokenizer.ts';
import { decodeVectors } from '../src/core/vectorStorage.ts';
import { BIN, cli, makeSmallModel } from './helpers/smallModel.ts';

let work: string;
let model: string;

const WORDS =
  'wing lift drag flow heat boundary layer shock pressure mach supersonic laminar turbulent nozzle panel flutter buckling cylinder shell plate'.split(' ');
function corpus(n: number, seed = 1): string {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = i % 7 === 0 ? 300 : 12 + Math.floor(rnd() * 30); // every 7th is longer than 128 tokens
    const text = Array.from({ length: len }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
    lines.push(JSON.stringify({ id: `d${i}`, title: `doc ${i}`, text, url: `https://example.org/${i}`, year: 1960 + (i % 10) }));
  }
  return `${lines.join('\n')}\n`;
}

/** Every file under dir (relative path → bytes). */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const rel of readdirSync(dir, { recursive: true }).map(String).sort()) {
    const p = path.join(dir, rel);
    if (!existsSync(p) || readdirSync(path.dirname(p)).length === 0) continue;
    try {
      out.set(rel, readFileSync(p));
    } catch {
      /* a folder */
    }
  }
  return out;
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('.'));
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'hypencoder-index-test-'));
  model = makeSmallModel(work);
  writeFileSync(path.join(work, 'small.jsonl'), corpus(30));
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('index: bad input is refused with file:line, exit 2, nothing written', () => {
  const cases: [string, string | Buffer, RegExp][] = [
    ['malformed.jsonl', '{"id":"a","text":"ok"}\n{"id":"b","text":"broken\n', /malformed\.jsonl:2: not valid JSON/],
    ['dup.jsonl', '{"id":"a","text":"x"}\n{"id":"b","text":"y"}\n{"id":"a","text":"z"}\n', /dup\.jsonl:3: duplicate id "a" \(first at .*dup\.jsonl:1\)/],
    ['notext.jsonl', '{"id":"a","text":"x"}\n{"id":"b","title":"no text"}\n', /notext\.jsonl:2: "text" is missing \(document "b"\)/],
    ['empty.jsonl', '\n\n', /empty\.jsonl: holds no documents; nothing to index/],
    [
      'latin1.jsonl',
      Buffer.concat([Buffer.from('{"id":"a","text":"ok"}\n{"id":"b","text":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]),
      /latin1\.jsonl:2: not valid UTF-8 \(byte 0xe9 at column 22\)/,
    ],
  ];
  for (const [name, content, err] of cases) {
    it(name, () => {
      const file = path.join(work, name);
      writeFileSync(file, content);
      const out = path.join(work, `out-${name}`);
      const r = cli(['index', file, '--model', model, '--out', out]);
      expect(r.stderr).toMatch(err);
      expect(r.code).toBe(2);
      expect(existsSync(out)).toBe(false);
      expect(leftovers(work)).toEqual([]);
    });
  }

  it('a folder with no documents', () => {
    const dir = path.join(work, 'no-docs');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'logo.png'), Buffer.from([0x89, 0x50]));
    const r = cli(['index', dir, '--model', model, '--out', path.join(work, 'out-nodocs')]);
    expect(r.stderr).toMatch(/holds no \.jsonl, \.md, \.html or \.txt documents \(1 files of other types skipped\); nothing to index/);
    expect(r.code).toBe(2);
  });

  it('a missing default model names --model', () => {
    const r = cli(['index', path.join(work, 'small.jsonl'), '--out', path.join(work, 'out-nomodel')], {
      env: { HYPENCODER_DEFAULT_MODEL: path.join(work, 'no-such-model') },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no model given and no default model at .*models\/default.*pass --model/);
  });
});

describe('index → verify → search → eval', () => {
  let out: string;
  let r: ReturnType<typeof cli>;
  beforeAll(() => {
    out = path.join(work, 'idx');
    r = cli(['index', path.join(work, 'small.jsonl'), '--model', model, '--out', out, '--tile-docs', '8', '--dtype', 'f16', '--json']);
  }, 120_000);

  it('writes a bundle that verifies, says how many documents were too long, and splits them', async () => {
    expect(r.stderr).toContain('30 documents → ');
    expect(r.stderr).toMatch(/5 longer than the model's 128 tokens \(split into passages\)/);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.passages.longDocuments).toBe(5);
    const v = cli(['verify', out, '--model', model]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/OK — \d+ passages, dim 32, f16, \d+ vector tile\(s\).*graph degree 16, lexical bm25-chunked-v2.*built with test-small/);
    const idx = await readIndexBundle(out, { model: await readModelBundle(model) });
    expect(idx.metadata.filter((m) => m.fields?.passage_of === 'd0').map((m) => m.id)).toEqual(['d0#p1', 'd0#p2', 'd0#p3']);
    expect(idx.metadata.find((m) => m.id === 'd1')!.fields).toEqual({ year: 1961 });
    expect(leftovers(work)).toEqual([]);
  });

  it('stores the encoder output of each passage (checked against a separate batch-of-one encoding, f16-rounded)', async () => {
    const idx = await readIndexBundle(out);
    const { model: m } = await readModelBundle(model);
    const tok = BertWordPieceTokenizer.fromVocab(readFileSync(path.join(model, 'vocab.txt'), 'utf8'));
    const enc = await DocEncoder.open(model, m, 1);
    const stored = decodeVectors(idx.tiles[1]); // passages 8..15
    for (const row of [0, 5]) {
      const p = idx.metadata[8 + row];
      const text = p.text.startsWith(p.title) ? p.text : `${p.title.replace(/ › .*/, '')}\n${p.text}`;
      const v = await enc.encode(tok, [text]);
      let maxErr = 0;
      let maxAbs = 0;
      for (let i = 0; i < 32; i++) {
        maxErr = Math.max(maxErr, Math.abs(v[i] - stored[row * 32 + i]));
        maxAbs = Math.max(maxAbs, Math.abs(v[i]));
      }
      expect(maxErr).toBeLessThanOrEqual(maxAbs * 2 ** -10 + 1e-5); // f16 rounding (2^-11 relative) + batch padding
    }
    await enc.close();
  });

  it('refuses an output folder that already holds an index unless --force', () => {
    const again = cli(['index', path.join(work, 'small.jsonl'), '--model', model, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--out .*idx": already holds an index; pass --force to replace it/);
    const forced = cli(['index', path.join(work, 'small.jsonl'), '--model', model, '--out', out, '--tile-docs', '8', '--force', '-q']);
    expect(forced.code).toBe(0);
  });

  it('search: lexical finds the document holding a rare phrase; neural and hybrid give k distinct documents', () => {
    const lex = cli(['search', '--index', out, '--mode', 'lexical', '--json', 'doc 17']);
    expect(lex.code).toBe(0);
    const lr = JSON.parse(lex.stdout);
    expect(lr.hits[0].docId).toBe('d17');
    // no --mode: hybrid with a model; without any model at hand, BM25 alone, and it says so
    const auto = cli(['search', '--index', out, '--json', 'doc 17']);
    expect(auto.code).toBe(0);
    if (!existsSync(path.join(DEFAULT_MODEL_DIR, 'model.json'))) {
      expect(auto.stderr).toContain('no model given and no default model: lexical (BM25) ranking');
    } else {
      // the shipped default model did not build this index (the small test model did)
      expect(auto.stderr).toContain('the index was built with another model than the default');
    }
    expect(JSON.parse(auto.stdout).mode).toBe('lexical');
    // with the default pointed at the model that built the index, no --mode means hybrid
    const withDefault = cli(['search', '--index', out, '--json', 'doc 17'], { env: { HYPENCODER_DEFAULT_MODEL: model } });
    expect(withDefault.code).toBe(0);
    expect(JSON.parse(withDefault.stdout).mode).toBe('hybrid');
    for (const mode of ['neural', 'hybrid']) {
      const s = cli(['search', '--index', out, '--model', model, '--mode', mode, '--k', '5', '--json', 'supersonic flutter of panels']);
      expect(s.code).toBe(0);
      const res = JSON.parse(s.stdout);
      expect(res.hits).toHaveLength(5);
      expect(new Set(res.hits.map((h: { docId: string }) => h.docId)).size).toBe(5);
      const scores = res.hits.map((h: { score: number }) => h.score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    }
  });

  it('neural search: the onnxruntime q-net scorer ranks as the Float64 reference scorer', () => {
    for (const q of ['supersonic flutter of panels', 'laminar heat transfer']) {
      const [a, b] = ['onnx', 'reference'].map((scorer) =>
        JSON.parse(cli(['search', '--index', out, '--model', model, '--mode', 'neural', '--scorer', scorer, '--k', '10', '--json', q]).stdout),
      );
      const scale = Math.max(...b.hits.map((h: { score: number }) => Math.abs(h.score)));
      b.hits.forEach((h: { docId: string; score: number }, i: number) => {
        expect(Math.abs(a.hits[i].score - h.score)).toBeLessThanOrEqual(1e-4 * scale); // float32 vs Float64
        if (a.hits[i].docId !== h.docId)
          expect(Math.abs(b.hits.find((x: { docId: string }) => x.docId === a.hits[i].docId).score - h.score)).toBeLessThanOrEqual(1e-4 * scale);
      });
    }
  });

  it('verify names a tampered file; a copy built for another model is refused with --model', () => {
    const copy = path.join(work, 'idx-tampered');
    cpSync(out, copy, { recursive: true });
    const shard = path.join(copy, 'metadata', '00000.json');
    const bytes = readFileSync(shard);
    bytes[10] ^= 1;
    writeFileSync(shard, bytes);
    const v = cli(['verify', copy]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/metadata\/00000\.json.*SHA-256 mismatch/);
    const m = JSON.parse(readFileSync(path.join(model, 'model.json'), 'utf8'));
    const other = path.join(work, 'other-model');
    cpSync(model, other, { recursive: true });
    writeFileSync(path.join(other, 'model.json'), `${JSON.stringify(m, null, 1)}\n`); // same model, other bytes
    const w = cli(['verify', out, '--model', other]);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/manifest\.json: model\.sha256 is [0-9a-f]{64} but the loaded model\.json hashes to/);
  });

  it('eval: metrics, per_query and a TREC run file', () => {
    const queries = path.join(work, 'q.jsonl');
    const qrels = path.join(work, 'qrels.txt');
    writeFileSync(queries, '{"id":"1","text":"doc 3"}\n{"id":"2","text":"doc 12"}\n{"id":"3","text":"doc 5 unjudged"}\n');
    writeFileSync(qrels, '1 0 d3 2\n1 0 d9 1\n2 0 d12 1\n');
    const runFile = path.join(work, 'lex.run');
    const e = cli(['eval', '--index', out, '--queries', queries, '--qrels', qrels, '--mode', 'lexical', '--run', runFile, '--json']);
    expect(e.code).toBe(0);
    const res = JSON.parse(e.stdout);
    expect(res.queries).toBe(2);
    expect(res.skipped_queries).toEqual(['3']);
    expect(res.per_query['2']['mrr@10']).toBe(1);
    expect(res.per_query['1']['mrr@10']).toBe(1);
    for (const k of ['ndcg@10', 'mrr@10', 'recall@100', 'map']) expect(typeof res[k]).toBe('number');
    const lines = readFileSync(runFile, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^1 Q0 d3 1 [\d.e+-]+ hypencoder-web\.lexical\.node$/);
    expect(new Set(lines.map((l) => l.split(' ')[0]))).toEqual(new Set(['1', '2', '3']));
  });
});

describe('index: a folder of pages', () => {
  it('indexes HTML, Markdown and text; drops scripts and navigation; passages link to heading anchors', async () => {
    const site = path.join(work, 'site');
    mkdirSync(path.join(site, 'docs'), { recursive: true });
    mkdirSync(path.join(site, '.git'));
    writeFileSync(path.join(site, '.git', 'x.html'), '<p>HIDDEN</p>');
    writeFileSync(path.join(site, 'logo.png'), Buffer.from([1, 2, 3]));
    const para = (w: string) => Array.from({ length: 70 }, () => w).join(' ');
    writeFileSync(
      path.join(site, 'index.html'),
      `<html><head><title>Home</title><script>window.EVILSCRIPT = fetch("/x")</script></head><body><nav>NAVWORD menu</nav><main><h1 id="top">Welcome</h1><p>${para('welcome')}</p><h2 id="wings">Wings</h2><p>${para('wing')}</p><script>EVILSCRIPT2()</script></main></body></html>`,
    );
    writeFileSync(path.join(site, 'docs', 'guide.md'), `# Guide\n\nintro\n\n## Shock waves\n\n${para('shock')}\n\n## Boundary layers\n\n${para('boundary')}\n`);
    writeFileSync(path.join(site, 'docs', 'notes.txt'), 'plain notes about nozzles');
    const out = path.join(work, 'site-idx');
    const r = cli(['index', site, '--model', model, '--out', out, '--base-url', 'https://docs.example.org/', '--lexical', 'lunr']); // the test reads Lunr's JSON
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/3 file\(s\) \(\+1 of other types skipped\): 3 documents →/);
    const idx = await readIndexBundle(out);
    const urls = idx.metadata.map((m) => m.url);
    expect(urls).toContain('https://docs.example.org/docs/guide.md#shock-waves');
    expect(urls).toContain('https://docs.example.org/docs/guide.md#boundary-layers');
    expect(urls).toContain('https://docs.example.org/index.html#wings');
    expect(urls).toContain('https://docs.example.org/docs/notes.txt');
    const all = JSON.stringify(idx.metadata);
    for (const t of ['EVILSCRIPT', 'NAVWORD', 'HIDDEN']) expect(all).not.toContain(t);
    const lexEntry = idx.manifest.files.find((f) => f.kind === 'lexical')!;
    const lex = loadLexicalIndex(readFileSync(path.join(out, lexEntry.path)));
    expect(lexicalSearch(lex, 'evilscript fetch navword')).toEqual([]);
    // One record per page (lunr-doc-1); the page is shown by its passage that has the word.
    const ranker = new LexicalRanker(lex, LEXICAL_SCHEME_DOCUMENTS, idx.metadata, documentGroups(idx.metadata));
    const boundary = ranker.rank('boundary');
    expect(idx.metadata[boundary.shownPassage(boundary.docs[0].doc)].url).toMatch(/#boundary-layers$/);
  });
});

describe('index: determinism and resumption', () => {
  let big: string;
  let reference: string;
  beforeAll(() => {
    big = path.join(work, 'big.jsonl');
    writeFileSync(big, corpus(1200, 5));
    reference = path.join(work, 'ref-idx');
    const r = cli(['index', big, '--model', model, '--out', reference, '--tile-docs', '64', '--dtype', 'f16', '-q']);
    if (r.code !== 0) throw new Error(r.stderr);
  }, 180_000);

  it('the same input gives byte-identical bundles (f16, and int8 with its collection-wide scale)', () => {
    const again = path.join(work, 'ref-idx-2');
    expect(cli(['index', big, '--model', model, '--out', again, '--tile-docs', '64', '--dtype', 'f16', '-q']).code).toBe(0);
    const a = snapshot(reference);
    const b = snapshot(again);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(b.get(k)!.equals(v), k).toBe(true);
    const i1 = path.join(work, 'int8-1');
    const i2 = path.join(work, 'int8-2');
    expect(cli(['index', big, '--model', model, '--out', i1, '--tile-docs', '64', '--dtype', 'int8', '-q']).code).toBe(0);
    expect(cli(['index', big, '--model', model, '--out', i2, '--tile-docs', '64', '-q']).code).toBe(0); // int8 is the default
    expect(readFileSync(path.join(i1, 'manifest.json')).equals(readFileSync(path.join(i2, 'manifest.json')))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(i2, 'manifest.json'), 'utf8')).storage.dtype).toBe('int8');
  }, 180_000);

  it('a run killed mid-way leaves no index, and the rerun resumes from its finished tiles to the same bytes', async () => {
    const out = path.join(work, 'resumed-idx');
    const child = spawn(process.execPath, [BIN, 'index', big, '--model', model, '--out', out, '--tile-docs', '64', '--batch-size', '4'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    await new Promise<void>((resolve) => {
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        err += s;
        if (/tile 2\/\d+ finished/.test(err)) child.kill('SIGKILL');
      });
      child.on('close', () => resolve());
    });
    expect(child.signalCode).toBe('SIGKILL');
    expect(existsSync(out)).toBe(false); // nothing half-written where the index goes
    expect(readdirSync(work)).toContain('.resumed-idx.index-work');
    const r = cli(['index', big, '--model', model, '--out', out, '--tile-docs', '64', '--batch-size', '4']);
    expect(r.code).toBe(0);
    const m = /resuming: (\d+) of (\d+) tiles already encoded/.exec(r.stderr);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(2);
    expect(Number(m![1])).toBeLessThan(Number(m![2]));
    expect(readdirSync(work)).not.toContain('.resumed-idx.index-work');
    // The same bytes as an uninterrupted run with the same options (batch size is one of them:
    // it changes padding, which may change the last bits of a vector).
    const fresh = path.join(work, 'fresh-idx');
    expect(cli(['index', big, '--model', model, '--out', fresh, '--tile-docs', '64', '--batch-size', '4', '-q']).code).toBe(0);
    const a = snapshot(fresh);
    const b = snapshot(out);
    for (const [k, v] of a) expect(b.get(k)?.equals(v), k).toBe(true);
  }, 180_000);

  it('a run on changed input does not reuse tiles of another job', () => {
    const out = path.join(work, 'other-idx');
    const workDir = path.join(work, '.other-idx.index-work');
    mkdirSync(path.join(workDir, 'tiles'), { recursive: true });
    writeFileSync(path.join(workDir, 'state.json'), JSON.stringify({ format: 'hypencoder-index-work', key: 'f'.repeat(64), tiles: 1, finished: { 0: 'x' } }));
    const r = cli(['index', path.join(work, 'small.jsonl'), '--model', model, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/left by a run on different input or options; starting over/);
    expect(r.stderr).not.toMatch(/resuming/);
  });
});
