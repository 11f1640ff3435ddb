// The benchmark driver: `npm run bench -- [--json] [--n 10000,100000] [--dims paper|small|768,768,1 ...]`
// Serves the repository with Vite on a free port, opens bench/pages/bench.html in headless Chromium
// (WebGPU), measures the adapter's GEMM peak once, then runs every (dims, N) of the grid on that page.
// stdout: one JSON object per configuration with --json (a table otherwise); stderr: progress.
import { cpus, loadavg } from 'node:os';
import { messageOf, openBenchSession, stackOf } from './benchPage.ts';
import { integers, oneOf, parseFlags, positive } from './options.ts';
import type { BenchConfig, BenchLine, Engine, OrtVariant } from './pages/bench.ts';

const PRESETS: Record<string, number[]> = {
  paper: [768, 768, 768, 768, 768, 768, 768, 1],
  small: [256, 256, 256, 1],
};

const USAGE = `usage: npm run bench -- [options]
  --json                 one JSON object per configuration on stdout (default: a table)
  --n LIST               document counts, comma-separated (default 10000,100000)
  --dims SPEC            q-net dims: "paper", "small" or a list like 256,256,256,1; repeat the flag or
                         separate with ";" for several (default: paper;small)
  --engines LIST         any of ours,ort,naive,cpu (default: all)
  --reps R               timed passes per engine, median reported (default 3)
  --baseline-seconds S   a baseline pass longer than this is timed on fewer documents (default 3)
  --ours-seconds S       same for our scorer (default 30: SwiftShader needs minutes for 768×6 at 100k)
  --full                 always time our scorer on all N documents
  --peak-size S          first GEMM size S×S×S of the peak measurement (default 768, doubled while a run
                         takes < 50 ms); --no-peak skips it
  --k K                  top-k of our scorer (default 10)
  --ort LIST             onnxruntime-web WebGPU EPs to time: jsep (the default bundle's) and/or native
                         (onnxruntime-web/webgpu, the C++ EP); default jsep,native, ratio vs the faster
  --port P               Vite port (default: a free one)`;

interface Options {
  json: boolean;
  n: number[];
  dims: number[][];
  engines?: Engine[];
  reps: number;
  baselineSeconds: number;
  peakSize?: number;
  peak: boolean;
  k: number;
  port: number;
  ort: OrtVariant[];
  /** null: --full */
  oursSeconds: number | null;
}

const ENGINES: readonly string[] = ['ours', 'ort', 'naive', 'cpu'] satisfies Engine[];
const ORT_VARIANTS: readonly string[] = ['jsep', 'native'] satisfies OrtVariant[];

function parseArgs(argv: string[]): Options {
  const f = parseFlags(
    argv,
    {
      strings: ['n', 'engines', 'reps', 'baseline-seconds', 'ours-seconds', 'peak-size', 'k', 'ort', 'port'],
      booleans: ['json', 'full', 'no-peak'],
      repeated: ['dims'],
    },
    USAGE,
  );
  const list = (flag: string, value: string, allowed: readonly string[]) => value.split(',').map((v) => oneOf(flag, v, allowed));
  const specs = (f.dims ?? []).flatMap((d) => d.split(';').filter(Boolean));
  if (specs.length === 0) specs.push('paper', 'small');
  return {
    json: f.json ?? false,
    n: f.n ? integers('--n', f.n) : [10000, 100000],
    dims: specs.map((spec) => {
      if (PRESETS[spec]) return PRESETS[spec];
      const d = spec.split(',').map(Number);
      if (d.length < 3 || d.some((v) => !Number.isInteger(v) || v < 1) || d[d.length - 1] !== 1)
        throw new Error(`--dims: bad q-net dims "${spec}" (need d,h,...,1)`);
      return d;
    }),
    engines: f.engines ? (list('--engines', f.engines, ENGINES) as Engine[]) : undefined,
    reps: f.reps ? Math.round(positive('--reps', f.reps)) : 3,
    baselineSeconds: f['baseline-seconds'] ? positive('--baseline-seconds', f['baseline-seconds']) : 3,
    oursSeconds: f.full ? null : f['ours-seconds'] ? positive('--ours-seconds', f['ours-seconds']) : 30,
    peakSize: f['peak-size'] ? Math.round(positive('--peak-size', f['peak-size'])) : undefined,
    peak: !f['no-peak'],
    k: f.k ? Math.round(positive('--k', f.k)) : 10,
    ort: f.ort ? (list('--ort', f.ort, ORT_VARIANTS) as OrtVariant[]) : ['jsep', 'native'],
    port: f.port ? Math.round(positive('--port', f.port)) : 0,
  };
}

const err = (msg: string) => process.stderr.write(`${msg}\n`);

function table(line: BenchLine): string {
  const f = (v: unknown, d = 3) => (typeof v === 'number' ? (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(d)) : String(v));
  return [
    `N=${line.N} dims=[${line.dims}] on ${line.adapter}`,
    `  ours   ${f(line.docs_per_s)} docs/s  ${f(line.gflops)} GFLOP/s  (${f(line.peak_share)} of GEMM peak ${f(line.peak_gflops)} GFLOP/s, ${line.peak_config})`,
    `  vs ort-webgpu ×${f(line.speedup_vs_ort_webgpu)} (${line.ort_best_ep}: ${f(line.ort_docs_per_s)} docs/s on ${line.timed_docs_ort} docs)`,
    `  vs naive      ×${f(line.speedup_vs_naive)} (${f(line.naive_docs_per_s)} docs/s on ${line.timed_docs_naive} docs)`,
    `  vs cpu        ×${f(line.speedup_vs_cpu)} (${f(line.cpu_docs_per_s)} docs/s on ${line.timed_docs_cpu} docs)`,
    line.errors ? `  errors: ${Object.keys(line.errors).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

async function main() {
  let opts: Options;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    err(`bench: ${messageOf(e)}`);
    process.exit(2);
  }
  let failed = false;
  let session: Awaited<ReturnType<typeof openBenchSession>> | undefined;
  try {
    session = await openBenchSession(opts.port, (msg) => err(msg.startsWith('[') ? msg : `bench: ${msg}`));
    const { base, page } = session;
    await page.goto(`${base}/bench/pages/bench.html`);
    await page.waitForFunction(() => window.hypBenchReady === true, null, { timeout: 120_000 });
    err(`bench: adapter ${await page.evaluate(() => window.hypBench.adapter())}`);
    if (opts.peak) {
      const t0 = Date.now();
      const p = await page.evaluate((size) => window.hypBench.measurePeak({ size }), opts.peakSize);
      err(
        `bench: GEMM peak ${p.peak_gflops} GFLOP/s (${p.peak_config}, ${(p.gemm_shape as number[]).join('×')}) in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
      );
      err(`bench: all GEMM configs ${JSON.stringify(p.all)}${(p.skipped as unknown[]).length ? ` skipped ${JSON.stringify(p.skipped)}` : ''}`);
    }
    for (const dims of opts.dims) {
      for (const N of opts.n) {
        const t0 = Date.now();
        const loadBefore = loadavg()[0];
        err(`bench: N=${N} dims=[${dims}] … (1-min load average ${loadBefore.toFixed(1)} on ${cpus().length} CPUs)`);
        const cfg: BenchConfig = {
          N,
          dims,
          reps: opts.reps,
          baselineSeconds: opts.baselineSeconds,
          k: opts.k,
          ortVariants: opts.ort,
          oursSeconds: opts.oursSeconds ?? Infinity,
        };
        if (opts.engines) cfg.engines = opts.engines;
        const line = await page.evaluate((c) => window.hypBench.run(c), cfg);
        line.wall_s = Math.round((Date.now() - t0) / 100) / 10;
        // The adapter may be a CPU (SwiftShader) shared with whatever else runs on the machine: say how busy it was.
        line.host_cpus = cpus().length;
        line.host_load_avg_1m = [Math.round(loadBefore * 10) / 10, Math.round(loadavg()[0] * 10) / 10];
        if (line.errors) failed = true;
        process.stdout.write(opts.json ? `${JSON.stringify(line)}\n` : `${table(line)}\n`);
        err(`bench: N=${N} dims=[${dims}] done in ${line.wall_s} s`);
      }
    }
  } catch (e) {
    failed = true;
    err(`bench: ${stackOf(e)}`);
  } finally {
    await session?.close();
  }
  process.exitCode = failed ? 1 : 0;
}

await main();
