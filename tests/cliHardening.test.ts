// Hardening of the CLI (issue 15): no command destroys a user's files, crashes, hangs or reads
// without bound, whatever it is given. Each case failed on faaba57 (the data-loss ones first).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, makeSmallModel } from './helpers/smallModel.ts';

let work: string;
let model: string;
let docs: string;
let bundle: string;

function corpus(n: number): string {
  return (
    Array.from({ length: n }, (_, i) => JSON.stringify({ id: `d${i}`, title: `doc ${i}`, text: `wing lift drag ${i} boundary layer flow` })).join('\n') + '\n'
  );
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'hypencoder-hardening-'));
  model = makeSmallModel(work);
  docs = path.join(work, 'docs.jsonl');
  writeFileSync(docs, corpus(20));
  bundle = path.join(work, 'bundle');
  const r = cli(['index', docs, '--model', model, '--out', bundle, '-q']);
  if (r.code !== 0) throw new Error(r.stderr);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const index = (out: string, extra: string[] = [], cwd?: string) => cli(['index', docs, '--model', model, '--out', out, '-q', ...extra], { cwd });

describe('--force never destroys what is not ours', () => {
  it('an empty --out (an unset shell variable) is refused; the current folder is untouched', () => {
    const cwd = path.join(work, 'cwd');
    mkdirSync(cwd);
    writeFileSync(path.join(cwd, 'precious.txt'), 'keep me');
    const r = index('', ['--force'], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out is empty/);
    expect(readFileSync(path.join(cwd, 'precious.txt'), 'utf8')).toBe('keep me');
    for (const out of ['.', '..']) {
      const r2 = index(out, ['--force'], cwd);
      expect(r2.code).toBe(2);
      expect(r2.stderr).toMatch(/is the current folder or a folder above it/);
    }
    expect(readdirSync(cwd)).toEqual(['precious.txt']);
  });

  it('the input folder (or a folder above it) is never replaced', () => {
    const site = path.join(work, 'site');
    mkdirSync(site);
    writeFileSync(path.join(site, 'page.md'), '# Page\n\nwing lift drag');
    for (const out of [site, work]) {
      const r = cli(['index', site, '--model', model, '--out', out, '--force', '-q']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is the input .* or a folder above it/);
    }
    expect(readdirSync(site)).toEqual(['page.md']);
  });

  it('a folder that is not a bundle, or a bundle with files its manifest does not list, is left alone', () => {
    const other = path.join(work, 'other');
    mkdirSync(other);
    writeFileSync(path.join(other, 'notes.txt'), 'mine');
    let r = index(other, ['--force']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a bundle this tool wrote .*nothing was touched/);
    expect(readdirSync(other)).toEqual(['notes.txt']);
    const b = path.join(work, 'bundle-extra');
    cpSync(bundle, b, { recursive: true });
    writeFileSync(path.join(b, '.htaccess'), 'Header set X');
    r = index(b, ['--force']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds files its manifest\.json does not list \("\.htaccess"\)/);
    expect(readFileSync(path.join(b, '.htaccess'), 'utf8')).toBe('Header set X');
    unlinkSync(path.join(b, '.htaccess'));
    expect(index(b, ['--force']).code).toBe(0); // a plain bundle is replaced
  });

  it('a bundle set aside by a run killed between its two renames is put back; staging leftovers are removed', () => {
    const out = path.join(work, 'rec');
    // The state a kill between "old aside" and "new in" leaves: no --out, the old bundle in .rec.old-*.
    cpSync(bundle, path.join(work, '.rec.old-abc123'), { recursive: true });
    mkdirSync(path.join(work, '.rec.tmp-def456'));
    writeFileSync(path.join(work, '.rec.tmp-def456', 'half'), 'x');
    const r = cli(['index', docs, '--model', model, '--out', out]);
    expect(r.code).toBe(2); // the restored bundle is an existing index: no --force, no replacement
    expect(r.stderr).toMatch(/put back the previous bundle/);
    expect(r.stderr).toMatch(/removed \.rec\.tmp-def456/);
    expect(readFileSync(path.join(out, 'manifest.json')).equals(readFileSync(path.join(bundle, 'manifest.json')))).toBe(true);
    expect(readdirSync(work).filter((n) => n.startsWith('.rec.'))).toEqual([]);
  });

  it('a --force rebuild killed at any moment leaves the old or the new bundle in --out, never none', async () => {
    const out = path.join(work, 'killed');
    cpSync(bundle, out, { recursive: true });
    const before = readFileSync(path.join(out, 'manifest.json'));
    // Kill at spread-out moments across the run (startup, encoding, writing, the swap).
    for (const ms of [300, 900, 1500, 2100, 2700, 3300]) {
      const child = spawnSync(process.execPath, [BIN, 'index', docs, '--model', model, '--out', out, '--force', '-q', '--no-resume'], {
        timeout: ms,
        killSignal: 'SIGKILL',
      });
      expect(child.error === undefined || (child.error as NodeJS.ErrnoException).code === 'ETIMEDOUT').toBe(true);
      expect(existsSync(path.join(out, 'manifest.json')), `killed after ${ms} ms`).toBe(true);
    }
    expect(index(out, ['--force']).code).toBe(0);
    expect(readFileSync(path.join(out, 'manifest.json')).equals(before)).toBe(true); // same input → same bytes
    expect(readdirSync(work).filter((n) => n.startsWith('.killed.') && n !== '.killed.index-work')).toEqual([]);
  }, 120_000);
});

describe('output paths are checked before any work', () => {
  it('pseudo-filesystems, a file in the way, a read-only place', () => {
    for (const [out, msg] of [
      ['/proc/x', /\/proc is on a kernel pseudo-filesystem \(proc\)/],
      ['/sys/x', /pseudo-filesystem/],
      ['/dev/null/x', /\/dev\/null: a file stands where a folder is needed/],
      [path.join(work, 'a-file'), /exists and is not a folder/],
    ] as const) {
      writeFileSync(path.join(work, 'a-file'), 'x');
      const r = index(out);
      expect(r.code, out).toBe(2);
      expect(r.stderr, out).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it('an --out under folders that do not exist yet is created', () => {
    const out = path.join(work, 'new', 'deep', 'idx');
    expect(index(out).code).toBe(0);
    expect(readdirSync(path.dirname(out))).toEqual(['idx']);
  });

  it('a symbolic link to a bundle folder: the link stays, its target gets the new bundle', () => {
    const real = path.join(work, 'real-target');
    cpSync(bundle, real, { recursive: true });
    const link = path.join(work, 'link-to-target');
    symlinkSync(real, link);
    expect(index(link, ['--force']).code).toBe(0);
    expect(existsSync(path.join(real, 'manifest.json'))).toBe(true);
    expect(readdirSync(work)).toContain('link-to-target');
  });

  it('eval --run to a folder or under /proc: one line, exit 2, before any search', () => {
    const q = path.join(work, 'q.jsonl');
    writeFileSync(q, '{"id":"1","text":"wing"}\n');
    const qrels = path.join(work, 'qrels.txt');
    writeFileSync(qrels, '1 0 d1 1\n');
    for (const [run, msg] of [
      [work, /--run .*: is a folder/],
      ['/proc/self/run.txt', /pseudo-filesystem/],
    ] as const) {
      const r = cli(['eval', '--index', bundle, '--model', model, '--queries', q, '--qrels', qrels, '--mode', 'lexical', '--run', run]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it("a lock on --out: a live run holding it refuses a second one; a dead run's lock is taken over", () => {
    const out = path.join(work, 'locked');
    const lock = path.join(work, '.locked.lock');
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: execFileSync('hostname').toString().trim(), started: 'now' }));
    let r = index(out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`another run \\(pid ${process.pid} `));
    expect(existsSync(out)).toBe(false);
    // A pid that is surely not running (beyond pid_max's default).
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345, host: execFileSync('hostname').toString().trim(), started: 'then' }));
    r = index(out);
    expect(r.code).toBe(0);
    expect(existsSync(lock)).toBe(false); // released at exit
  });
});

describe('input folders: links, file-system errors', () => {
  it('broken, looping and outside links are skipped and counted; --follow-external-links follows outside ones', () => {
    const site = path.join(work, 'links');
    mkdirSync(site);
    writeFileSync(path.join(site, 'a.md'), '# A\n\nwing lift');
    symlinkSync(path.join(site, 'missing.md'), path.join(site, 'broken.md'));
    symlinkSync(path.join(site, 'self.md'), path.join(site, 'self.md'));
    const outside = path.join(work, 'outside.txt');
    writeFileSync(outside, 'secret outside text');
    symlinkSync(outside, path.join(site, 'out.txt'));
    symlinkSync(site, path.join(site, 'loop')); // a folder link back to the root: walked once at most
    symlinkSync(path.join(site, 'a.md'), path.join(site, 'inside.md'));
    const r = cli(['index', site, '--model', model, '--out', path.join(work, 'links-idx'), '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/symbolic links skipped: 2 broken or looping, 1 leading outside the input folder/);
    const s = JSON.parse(r.stdout);
    expect(s.input.skippedLinks).toEqual({ broken: 2, outside: 1 });
    expect(s.passages.documents).toBe(2); // a.md and inside.md
    const f = cli(['index', site, '--model', model, '--out', path.join(work, 'links-idx2'), '--json', '--follow-external-links', '-q']);
    expect(f.code).toBe(0);
    expect(JSON.parse(f.stdout).passages.documents).toBe(3);
  });

  it('an unreadable input folder is one line and a non-zero exit', () => {
    const r = cli(['index', '/proc/1/fd', '--model', model, '--out', path.join(work, 'never')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(work, 'never'))).toBe(false);
  });

  it('JSONL is streamed: lines across read chunks, and the failing line still named', () => {
    const big = path.join(work, 'big.jsonl');
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: `b${i}`, text: `${'lift '.repeat(i % 200)}${i}` }));
    writeFileSync(big, `${lines.join('\n')}\n`);
    const r = cli(['index', big, '--model', model, '--out', path.join(work, 'big-idx'), '--json', '-q', '--no-graph', '--no-lexical']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).passages.documents).toBe(3000);
    const bad = path.join(work, 'bad-late.jsonl');
    writeFileSync(bad, Buffer.concat([Buffer.from(`${lines.slice(0, 2500).join('\n')}\n{"id":"x","text":"caf`), Buffer.from([0xe9]), Buffer.from('"}\n')]));
    const b = cli(['index', bad, '--model', model, '--out', path.join(work, 'bad-idx')]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/bad-late\.jsonl:2501: not valid UTF-8 \(byte 0xe9 at column 22\)/);
  });
});

describe('bundles are read with bounds', () => {
  const tile = 'vectors/00000.bin';
  const copy = (name: string) => {
    const d = path.join(work, name);
    cpSync(bundle, d, { recursive: true });
    return d;
  };

  it('a tile that is a link to /dev/zero, a FIFO, or a sparse oversized file is refused at once, naming it', () => {
    const zero = copy('zero');
    unlinkSync(path.join(zero, tile));
    symlinkSync('/dev/zero', path.join(zero, tile));
    let r = cli(['verify', zero]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vectors\/00000\.bin: not a regular file/);
    const fifo = copy('fifo');
    unlinkSync(path.join(fifo, tile));
    execFileSync('mkfifo', [path.join(fifo, tile)]);
    r = cli(['verify', fifo]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vectors\/00000\.bin: not a regular file/);
    const sparse = copy('sparse');
    truncateSync(path.join(sparse, tile), 1.5 * 2 ** 30);
    r = cli(['verify', sparse]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vectors\/00000\.bin: oversized: expected \d+ bytes, got 1610612736/);
  });

  it('a deeply nested or huge manifest is refused with its name', () => {
    const deep = copy('deep');
    writeFileSync(path.join(deep, 'manifest.json'), `${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    let r = cli(['verify', deep]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/manifest\.json: nests arrays and objects deeper than 64 levels/);
    const huge = copy('huge');
    truncateSync(path.join(huge, 'manifest.json'), 100 * 2 ** 20);
    r = cli(['verify', huge]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/manifest\.json: 104857600 bytes, over the 67108864-byte limit/);
  });
});

describe('options are bounded', () => {
  it('--threads is capped to the cores; out-of-range numbers and non-http URLs are refused', () => {
    const r = cli(['index', docs, '--model', model, '--out', path.join(work, 'threads'), '--threads', '1000', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`--threads 1000: this machine has ${availableParallelism()} cores`));
    expect(JSON.parse(r.stdout).threads).toBe(availableParallelism());
    for (const [flag, v, msg] of [
      ['--graph-degree', '100000', /--graph-degree must be an integer from 1 to 256/],
      ['--batch-size', '1000000', /--batch-size must be an integer from 1 to 1024/],
      ['--base-url', 'javascript:alert(1)//', /only http: and https: URLs/],
      ['--base-url', 'file:///etc/', /only http: and https: URLs/],
      ['--base-url', '//evil.example/', /protocol-relative URL/],
    ] as const) {
      const x = cli(['index', docs, '--model', model, '--out', path.join(work, 'never2'), flag, v]);
      expect(x.code, `${flag} ${v}`).toBe(2);
      expect(x.stderr).toMatch(msg);
    }
    expect(existsSync(path.join(work, 'never2'))).toBe(false);
  });

  it('--base-url may be a site path: page URLs start with it', () => {
    const site = path.join(work, 'site2');
    mkdirSync(site);
    writeFileSync(path.join(site, 'a b.md'), '# A\n\nwing');
    const out = path.join(work, 'site2-idx');
    expect(cli(['index', site, '--model', model, '--out', out, '--base-url', '/docs', '-q']).code).toBe(0);
    const meta = JSON.parse(readFileSync(path.join(out, 'metadata/00000.json'), 'utf8'));
    expect(meta[0].url).toBe('/docs/a%20b.md');
  });
});

describe('queries of any length, and what reaches the terminal', () => {
  it('a 30 KB query as an argument (onnxruntime-node crashed on such a command line) and on stdin', () => {
    const q = 'wing '.repeat(6000);
    const r = cli(['search', '--index', bundle, '--model', model, '--mode', 'neural', '--json', q]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).hits.length).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/note: the query was cut to its first 2,04\d of 30,000 characters; the neural model reads its first \d+ of [\d,]+ tokens/);
    const s = spawnSync(process.execPath, [BIN, 'search', '--index', bundle, '--model', model, '--mode', 'hybrid', '--json', '-'], {
      input: q,
      encoding: 'utf8',
    });
    expect(s.status).toBe(0);
    expect(JSON.parse(s.stdout).notice).toMatch(/cut to its first/);
  });

  it('text output holds no escape or bell bytes from documents, and shows a bidi override escaped', () => {
    const f = path.join(work, 'esc.jsonl');
    writeFileSync(
      f,
      `${JSON.stringify({ id: 'e', title: '\u001b[31mred\u0007', text: 'bell \u001b]0;title\u0007 x', url: 'https://e.org/%E2%80%AEgpj.exe' })}\n`,
    );
    const out = path.join(work, 'esc-idx');
    expect(cli(['index', f, '--model', model, '--out', out, '-q']).code).toBe(0);
    const r = cli(['search', '--index', out, '--mode', 'lexical', 'bell']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(r.stdout).toContain('red');
    expect(r.stdout).toContain('https://e.org/%E2%80%AEgpj.exe');
  });
});
