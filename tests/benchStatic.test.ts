// The static benchmark page (bench/benchStatic.ts + serve.py), as a GPU machine without Node runs it:
// built here, served by serve.py, driven by the page itself in headless Chromium (SwiftShader here).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { chromium } from '@playwright/test';
import { chromiumPath } from '../scripts/lib/browser.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-static-'));
const site = join(dir, 'site');
const browser = chromiumPath() ?? chromium.executablePath();

beforeAll(() => {
  execFileSync(process.execPath, ['--import', 'tsx', 'bench/benchStatic.ts', '--out', site], { stdio: 'pipe' });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serve(grid: object, name: string) {
  const config = join(dir, `${name}.json`);
  const out = join(dir, `${name}.jsonl`);
  writeFileSync(config, JSON.stringify(grid));
  const r = spawnSync('python3', [join(site, 'serve.py'), '--browser', browser, '--no-gpu-flags', '--out', out, '--config', config, '--timeout', '150'], {
    encoding: 'utf8',
  });
  if (!existsSync(out)) throw new Error(`serve.py exited ${r.status} without ${out}:\n${r.stderr.slice(-3000)}`);
  const lines = readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: r.status, stderr: r.stderr, lines };
}

test('serve.py runs the grid the config names and writes the lines the page posts', () => {
  const config = { N: 300, dims: [32, 32, 32, 1], engines: ['ours', 'cpu', 'naive'], reps: 1, baselineSeconds: 0.2 };
  // The second configuration forces the real-GPU method (untimed passes, the CPU reference timed apart).
  const r = serve({ peak: false, configs: [config, { ...config, warmEachPass: true, cpuApart: true }] }, 'grid');
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  expect(r.lines).toHaveLength(2);
  const forced = r.lines[1];
  expect(forced.errors).toBeUndefined();
  expect([forced.warm_each_pass, forced.cpu_timed_apart]).toEqual([true, true]);
  expect(forced.timing).toMatch(/the CPU reference after them, each GPU pass preceded by an untimed one/);
  expect(forced.speedup_vs_cpu as number).toBeGreaterThan(0);
  const [line] = r.lines;
  expect(line.N).toBe(300);
  expect(line.dims).toEqual([32, 32, 32, 1]);
  expect(line.errors).toBeUndefined();
  expect(line.docs_per_s as number).toBeGreaterThan(0);
  expect(line.speedup_vs_naive as number).toBeGreaterThan(0);
  expect(line.speedup_vs_cpu as number).toBeGreaterThan(0);
  // Checked against the Float64 reference on the page (the bound of e2e/scorer.spec.ts).
  expect(line.ours_max_rel_err as number).toBeLessThan(1e-5);
  expect(line.ours_topk_mismatches).toBe(0);
  // What the line says of its method follows the adapter: on a CPU-emulated one (SwiftShader here) no
  // untimed passes and the CPU reference among the others; a real GPU gets both (bench.ts run()).
  const cpuEmulated = /swiftshader|llvmpipe|lavapipe/i.test(String(line.adapter));
  expect(line.warm_each_pass).toBe(!cpuEmulated);
  expect(line.cpu_timed_apart).toBe(!cpuEmulated);
}, 180_000);

test('requireGpu: a CPU-emulated adapter stops the run at once (error line, exit 1); a real GPU runs it', () => {
  const r = serve({ requireGpu: true, peak: false, configs: [{ N: 200, dims: [32, 32, 1], engines: ['ours'], reps: 1 }] }, 'require');
  expect(r.lines).toHaveLength(1);
  if (r.lines[0].kind === 'error') {
    expect(r.status).toBe(1);
    expect(String(r.lines[0].error)).toMatch(/requireGpu: the browser gave a CPU-emulated adapter \((google \/ swiftshader|.*llvmpipe.*)\)/);
  } else {
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(String(r.lines[0].adapter)).not.toMatch(/swiftshader|llvmpipe|lavapipe/i);
  }
}, 180_000);

test('a run that outlasts --timeout exits 2 and leaves its lines in OUT.partial, not OUT', () => {
  const config = join(dir, 'slow.json');
  const out = join(dir, 'slow.jsonl');
  // Seconds of CPU reference per pass: far beyond the 3 s allowed.
  writeFileSync(config, JSON.stringify({ peak: false, configs: [{ N: 100000, dims: [768, 768, 768, 1], engines: ['cpu'], reps: 3, baselineSeconds: 30 }] }));
  const r = spawnSync('python3', [join(site, 'serve.py'), '--browser', browser, '--no-gpu-flags', '--out', out, '--config', config, '--timeout', '3'], {
    encoding: 'utf8',
  });
  expect(r.status, r.stderr.slice(-2000)).toBe(2);
  expect(r.stderr).toMatch(/TIMED OUT/);
  expect(existsSync(out)).toBe(false);
  expect(existsSync(`${out}.partial`)).toBe(true);
}, 60_000);
