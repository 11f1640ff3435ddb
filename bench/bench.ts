// The benchmark driver: `npm run bench -- [--json] [--n 10000,100000] [--dims paper|small|768,768,1 ...]`
// Serves the repository with Vite on a free port, opens bench/pages/bench.html in headless Chromium
// (WebGPU), measures the adapter's GEMM peak once, then runs every (dims, N) of the grid on that page.
// stdout: one JSON object per configuration with --json (a table otherwise); stderr: progress.
import { cpus, loadavg } from 'node:os';
import { messageOf, openBenchSession, stackOf } from './benchPage.ts';
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
  const specs: string[] = [];
  const o: Options = {
    json: false,
    n: [10000, 100000],
    dims: [],
    reps: 3,
    baselineSeconds: 3,
    peak: true,
    k: 10,
    port: 0,
    ort: ['jsep', 'native'],
    oursSeconds: 30,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const num = () => {
      const v = Number(val());
      if (!(v > 0)) throw new Error(`${flag}: expected a positive number`);
      return v;
    };
    switch (flag) {
      case '--json':
        o.json = true;
        break;
      case '--n':
        o.n = val()
          .split(',')
          .map((s) => {
            const v = Number(s);
            if (!Number.isInteger(v) || v < 1) throw new Error(`--n: bad count ${s}`);
            return v;
          });
        break;
      case '--dims':
        specs.push(...val().split(';').filter(Boolean));
        break;
      case '--engines':
        o.engines = val()
          .split(',')
          .map((s) => {
            if (!ENGINES.includes(s)) throw new Error(`--engines: unknown engine ${s}`);
            return s as Engine;
          });
        break;
      case '--reps':
        o.reps = Math.round(num());
        break;
      case '--baseline-seconds':
        o.baselineSeconds = num();
        break;
      case '--ours-seconds':
        o.oursSeconds = num();
        break;
      case '--full':
        o.oursSeconds = null;
        break;
      case '--peak-size':
        o.peakSize = Math.round(num());
        break;
      case '--no-peak':
        o.peak = false;
        break;
      case '--k':
        o.k = Math.round(num());
        break;
      case '--ort':
        {
          const variants = val().split(',');
          if (variants.some((v) => !ORT_VARIANTS.includes(v))) throw new Error('--ort: jsep, native or both (jsep,native)');
          o.ort = variants as OrtVariant[];
        }
        break;
      case '--port':
        o.port = Math.round(num());
        break;
      case '-h':
      case '--help':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  if (specs.length === 0) specs.push('paper', 'small');
  o.dims = specs.map((spec) => {
    if (PRESETS[spec]) return PRESETS[spec];
    const d = spec.split(',').map(Number);
    if (d.length < 3 || d.some((v) => !Number.isInteger(v) || v < 1) || d[d.length - 1] !== 1)
      throw new Error(`--dims: bad q-net dims "${spec}" (need d,h,...,1)`);
    return d;
  });
  return o;
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
