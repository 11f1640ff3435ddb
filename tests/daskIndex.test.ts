// `index --dask`: the encode stage's tiles as Dask tasks (python3-distributed) give the bundle the
// single-machine run gives, byte for byte, on a local cluster and on a cluster joined by address
// with one worker killed mid-run; a rerun after an interrupted run resumes from the finished tiles;
// an unreachable scheduler, a worker that dies on every try and a bad --dask value are refused
// with a clear error and nothing written to --out.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonPath } from '../src/cli/python.ts';
import { BIN, cli } from './helpers/smallModel.ts';

const WORDS =
  'wing lift drag flow heat boundary layer shock pressure mach supersonic laminar turbulent nozzle panel flutter buckling cylinder shell plate'.split(' ');
const TILE = ['--tile-docs', '48'];
let work: string;
let input: string;
let reference: string;

function corpus(n: number): string {
  let s = 7;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = i % 9 === 0 ? 220 : 10 + Math.floor(rnd() * 40);
    const text = Array.from({ length: len }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
    lines.push(JSON.stringify({ id: `d${i}`, title: `doc ${i}`, text }));
  }
  return `${lines.join('\n')}\n`;
}

function files(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel)).flatMap((f) => {
    const r = path.join(rel, f);
    return statSync(path.join(dir, r)).isDirectory() ? files(dir, r) : [r];
  });
}

function expectSameBundle(a: string, b: string): void {
  const fa = files(a).sort();
  expect(files(b).sort()).toEqual(fa);
  for (const f of fa) expect(readFileSync(path.join(b, f)).equals(readFileSync(path.join(a, f))), f).toBe(true);
}

/** Runs the CLI, calling onLine for each stderr line; resolves with the exit code and stderr. */
function run(args: string[], onLine?: (line: string, child: ChildProcess) => void, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    for (const line of s.split('\n')) if (line) onLine?.(line, child);
    err += s;
  });
  return new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stderr: err }));
  });
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'hypencoder-dask-'));
  input = path.join(work, 'docs.jsonl');
  writeFileSync(input, corpus(240));
  reference = path.join(work, 'single');
  const r = cli(['index', input, '--out', reference, ...TILE, '-q']);
  if (r.code !== 0) throw new Error(r.stderr);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('index --dask', () => {
  it('local:2 gives the single-machine bundle byte for byte', () => {
    const out = path.join(work, 'local2');
    const r = cli(['index', input, '--out', out, ...TILE, '--dask', 'local:2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/dask: a local cluster of 2 workers; \d+ tiles to encode/);
    const summary = JSON.parse(r.stdout);
    expect(summary.dask).toMatchObject({ scheduler: 'local:2', workers: 2 });
    expect(summary.tiles).toBeGreaterThan(4);
    expectSameBundle(reference, out);
    expect(readdirSync(work)).not.toContain('.local2.index-work');
  }, 180_000);

  it('with --shards 2, the shards and their shard list are byte for byte those of the run without --dask', () => {
    const plain = path.join(work, 'shards-plain');
    const dask = path.join(work, 'shards-dask');
    expect(cli(['index', input, '--out', plain, ...TILE, '--shards', '2', '-q']).code).toBe(0);
    const r = cli(['index', input, '--out', dask, ...TILE, '--shards', '2', '--dask', 'local:2', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(dask, 'shards.json'))).toBe(true);
    expectSameBundle(plain, dask);
  }, 180_000);

  it('a cluster joined by address, one of its two workers killed mid-run: the same bytes', async () => {
    const schedulerFile = path.join(work, 'scheduler.json');
    const py = pythonPath();
    const procs: ChildProcess[] = [];
    const start = (args: string[]) => {
      const p = spawn(py, ['-m', ...args], { stdio: 'ignore' });
      procs.push(p);
      return p;
    };
    try {
      start(['distributed.cli.dask_scheduler', '--scheduler-file', schedulerFile, '--port', '0', '--no-dashboard', '--host', '127.0.0.1']);
      for (let i = 0; i < 100 && !existsSync(schedulerFile); i++) await new Promise((r) => setTimeout(r, 200));
      const address: string = JSON.parse(readFileSync(schedulerFile, 'utf8')).address;
      const workerArgs = ['distributed.cli.dask_worker', address, '--nthreads', '1', '--no-nanny', '--no-dashboard'];
      const victim = start(workerArgs);
      start(workerArgs);
      const out = path.join(work, 'joined');
      let killed = false;
      const r = await run(['index', input, '--out', out, ...TILE, '--dask', address], (line) => {
        if (!killed && /^tile \d+\/\d+ finished/.test(line)) {
          killed = true;
          victim.kill('SIGKILL');
        }
      });
      expect(r.code, r.stderr).toBe(0);
      expect(killed).toBe(true);
      expect(victim.signalCode).toBe('SIGKILL');
      expectSameBundle(reference, out);
    } finally {
      for (const p of procs) p.kill('SIGKILL');
    }
  }, 180_000);

  it('a run killed after some tiles leaves no index; the rerun resumes from them to the same bytes', async () => {
    const out = path.join(work, 'resumed');
    let tiles = 0;
    const killed = await run(['index', input, '--out', out, ...TILE, '--dask', 'local:2'], (line, child) => {
      if (/^tile \d+\/\d+ finished/.test(line) && ++tiles === 2) child.kill('SIGKILL');
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(out)).toBe(false);
    const r = cli(['index', input, '--out', out, ...TILE, '--dask', 'local:2']);
    expect(r.code, r.stderr).toBe(0);
    const m = /resuming: (\d+) of (\d+) tiles already encoded/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(2);
    expectSameBundle(reference, out);
  }, 180_000);

  it('a worker that dies on every try: the tile named, exit 1, nothing at --out', async () => {
    const out = path.join(work, 'dies');
    const r = await run(['index', input, '--out', out, ...TILE, '--dask', 'local:2'], undefined, { HYPENCODER_DASK_TEST_KILL_TILE: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--dask: tile 1: its worker died on each of 3 tries/);
    expect(existsSync(out)).toBe(false);
  }, 180_000);

  it('a scheduler that cannot be reached, and a --dask that is no address, are refused', () => {
    const out = path.join(work, 'unreachable');
    const r = cli(['index', input, '--out', out, ...TILE, '--dask', 'tcp://127.0.0.1:9']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot reach the Dask scheduler at tcp:\/\/127\.0\.0\.1:9/);
    expect(existsSync(out)).toBe(false);
    const bad = cli(['index', input, '--out', out, '--dask', 'local:0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--dask local:0: local:N takes 1 to 64 workers/);
    const word = cli(['index', input, '--out', out, '--dask', 'everywhere']);
    expect(word.code).toBe(2);
    expect(word.stderr).toMatch(/--dask "everywhere": expected local:N or a Dask scheduler address/);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
