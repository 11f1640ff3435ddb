// `hypencoder-web convert <checkpoint dir> --out <model dir>`: a released Hypencoder checkpoint
// (config.json + model.safetensors or pytorch_model.bin) → a model bundle (query_encoder.onnx,
// doc_encoder.onnx, vocab.txt, model.json), by training/export_onnx.py under Debian's PyTorch.
// `--kind dense` (or auto-detected): a sentence-transformers style BERT-family retriever → the same
// bundle with a zero-layer q-net (training/dense_encoder.py).
// The bundle is written to a temporary sibling folder, checked with onnxruntime-node against
// PyTorch's own outputs, and only then renamed into place.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { CliError } from './errors.ts';
import { checkPythonTorch, pythonPath, TRAINING_DIR } from './python.ts';
import { readModelBundle } from './readBundle.ts';
import { verifyBundleAgainstTorch, type VerifyReport } from './verifyBundle.ts';

export const CHECKPOINT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'];

export const DTYPES = ['fp32', 'fp16', 'int8'] as const;
export type Dtype = (typeof DTYPES)[number];
export const KINDS = ['auto', 'hypencoder', 'dense'] as const;
export type Kind = (typeof KINDS)[number];

export interface ConvertOptions {
  out: string;
  dtype: Dtype;
  id?: string;
  vocab?: string;
  maxQueryTokens?: number;
  maxDocumentTokens?: number;
  force?: boolean;
  python?: string;
  verify?: boolean;
  quiet?: boolean;
  kind?: Kind;
  pooling?: 'cls' | 'mean';
  /** true/false: --normalize / --no-normalize; undefined: as the folder says. */
  normalize?: boolean;
  queryPrefix?: string;
  documentPrefix?: string;
}

export interface ConvertResult {
  out: string;
  model: Record<string, unknown>;
  verify: VerifyReport | null;
}

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description(
      'convert a Hypencoder checkpoint folder (e.g. jfkback/hypencoder.6_layer), or a BERT-family dense retriever ' +
        'saved by sentence-transformers (e.g. all-MiniLM-L6-v2, bge-small, e5-small), into a model bundle',
    )
    .argument('<checkpoint>', 'folder with config.json and model.safetensors or pytorch_model.bin')
    .addOption(
      new Option(
        '--kind <kind>',
        'hypencoder, dense (a zero-layer q-net: score = query vector · document vector), or auto: dense when the folder ' +
          'has modules.json or a config.json model_type that is not a Hypencoder',
      )
        .choices([...KINDS])
        .default('auto'),
    )
    .addOption(new Option('--pooling <mode>', 'dense folder without modules.json: cls or mean (masked) pooling').choices(['cls', 'mean']))
    .option('--normalize', 'dense folder without modules.json: L2-normalize the pooled vectors (cosine scores)')
    .option('--no-normalize', 'dense: the pooled vectors are not normalized (must agree with modules.json)')
    .option('--query-prefix <text>', 'dense: text put before every query, e.g. "query: " for e5 (default: config_sentence_transformers.json\'s prompts)')
    .option('--document-prefix <text>', 'dense: text put before every document, e.g. "passage: " for e5')
    .requiredOption('-o, --out <dir>', 'the model bundle folder to create')
    .addOption(
      new Option(
        '--dtype <dtype>',
        'weights in the ONNX files: fp32, fp16 (half the size; cast to fp32 when the session loads, so all arithmetic stays fp32), ' +
          'or int8 (weight matrices as int8 with per-channel scales, dequantized to fp32 in the graph; training/quantize_onnx.py)',
      )
        .choices([...DTYPES])
        .default('fp32'),
    )
    .option('--id <id>', "model id in model.json (default: the checkpoint folder's name, plus -fp16 / -int8 for those dtypes)")
    .option('--vocab <file>', "vocab.txt (default: the checkpoint's, else models/vocab/bert-base-uncased-vocab.txt)")
    .option('--max-query-tokens <n>', 'query length limit written to model.json (default: 32)', toInt)
    .option('--max-document-tokens <n>', "document length limit written to model.json (default: 512, or a dense model's max_seq_length)", toInt)
    .option('--force', 'replace --out if it exists')
    .option('--python <path>', 'the Python with PyTorch (default: $HYPENCODER_PYTHON or /usr/bin/python3)')
    .option('--no-verify', 'skip the onnxruntime-node check of the exported files against PyTorch')
    .action(async (checkpoint: string, opts: ConvertOptions) => {
      await convert(checkpoint, opts);
    });
}

function toInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 2) throw new CliError(`expected an integer >= 2, got ${JSON.stringify(v)}`, 2);
  return n;
}

/**
 * Checks that the folder looks like a Hugging Face checkpoint before starting Python. A
 * sentence-transformers folder (modules.json) may keep its weights in a subfolder: Python checks those.
 */
export function checkCheckpointDir(dir: string): void {
  if (!existsSync(dir)) throw new CliError(`${dir} does not exist`, 2);
  if (!statSync(dir).isDirectory()) throw new CliError(`${dir} is not a folder (give the checkpoint folder, not a file in it)`, 2);
  const names = new Set(readdirSync(dir));
  if (!CHECKPOINT_FILES.some((f) => names.has(f)) && !names.has('modules.json')) {
    throw new CliError(
      `${dir} is not a Hypencoder checkpoint nor a dense encoder folder: it has none of ${CHECKPOINT_FILES.join(', ')} ` +
        '(a checkpoint folder such as a download of jfkback/hypencoder.6_layer or sentence-transformers/all-MiniLM-L6-v2 ' +
        'holds config.json and model.safetensors)',
      2,
    );
  }
}

export async function convert(checkpoint: string, opts: ConvertOptions): Promise<ConvertResult> {
  const log = (s: string) => {
    if (!opts.quiet) process.stderr.write(`${s}\n`);
  };
  const dtype = opts.dtype ?? 'fp32';
  if (!DTYPES.includes(dtype)) throw new CliError(`--dtype must be one of ${DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`, 2);
  const ckpt = path.resolve(checkpoint);
  const out = path.resolve(opts.out);
  checkCheckpointDir(ckpt);
  if (existsSync(out) && !opts.force && !(statSync(out).isDirectory() && readdirSync(out).length === 0)) {
    throw new CliError(`${out} already exists (pass --force to replace it)`, 2);
  }
  const py = checkPythonTorch(pythonPath(opts.python));
  log(`using ${py.python} (torch ${py.torch}, onnx ${py.onnx})`);

  const parent = path.dirname(out);
  mkdirSync(parent, { recursive: true });
  const work = mkdtempSync(path.join(parent, `.${path.basename(out)}.tmp-`));
  const staged = path.join(work, 'bundle');
  const checkDir = mkdtempSync(path.join(tmpdir(), 'hypencoder-check-'));
  const checkFile = path.join(checkDir, 'check.json');
  try {
    const kind = opts.kind ?? 'auto';
    if (!KINDS.includes(kind)) throw new CliError(`--kind must be one of ${KINDS.join(', ')}, got ${JSON.stringify(kind)}`, 2);
    const args = [path.join(TRAINING_DIR, 'export_onnx.py'), ckpt, '--out', staged, '--dtype', dtype, '--check-out', checkFile, '--kind', kind];
    if (opts.pooling) args.push('--pooling', opts.pooling);
    if (opts.normalize !== undefined) args.push(opts.normalize ? '--normalize' : '--no-normalize');
    // `--query-prefix=…` keeps a prefix that starts with "-" an argument of its own option
    if (opts.queryPrefix !== undefined) args.push(`--query-prefix=${opts.queryPrefix}`);
    if (opts.documentPrefix !== undefined) args.push(`--document-prefix=${opts.documentPrefix}`);
    if (opts.id) args.push('--id', opts.id);
    else args.push('--id', path.basename(ckpt) + (dtype === 'fp32' ? '' : `-${dtype}`));
    if (opts.vocab) args.push('--vocab', path.resolve(opts.vocab));
    if (opts.maxQueryTokens) args.push('--max-query-tokens', String(opts.maxQueryTokens));
    if (opts.maxDocumentTokens) args.push('--max-document-tokens', String(opts.maxDocumentTokens));
    const { code, stdout } = await runPython(py.python, args, opts.quiet ?? false);
    if (code === 2) throw new CliError('', 2); // export_onnx.py printed "error: ..." (not a checkpoint, unsupported, shapes disagree)
    if (code !== 0) throw new CliError(`export failed: ${path.basename(args[0])} exited with status ${code}`, 1);
    const summary = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { model: Record<string, unknown> };
    const dense = (summary.model.qnet as { dims?: number[] } | undefined)?.dims?.length === 2;

    try {
      await readModelBundle(staged); // model.json against docs/FORMATS.md, and every file's length and SHA-256
    } catch (e) {
      throw new CliError(`the exported bundle does not validate: ${(e as Error).message}`, 1);
    }

    let report: VerifyReport | null = null;
    if (opts.verify !== false) {
      const check = JSON.parse(await readFile(checkFile, 'utf8'));
      report = await verifyBundleAgainstTorch(staged, check, dtype);
      if (report === null) {
        log('onnxruntime-node is not installed: skipped the check of the ONNX files against PyTorch');
      } else {
        const [q, d] = dense ? ['query vector', 'document vector'] : ['q-net', 'CLS'];
        log(
          `onnxruntime-node vs PyTorch: ${q} max |Δ| ${report.qnetMaxAbs.toExponential(2)} (${report.qnetMaxRel.toExponential(2)} of max |W|), ` +
            `${d} max |Δ| ${report.clsMaxAbs.toExponential(2)} (${report.clsMaxRel.toExponential(2)}); tolerance ${report.tolerance.toExponential(1)}`,
        );
        if (!report.ok) {
          throw new CliError(`the exported ONNX files disagree with PyTorch beyond the tolerance (${report.tolerance}): ${report.worst}`, 1);
        }
      }
    }

    if (existsSync(out)) {
      const old = path.join(work, 'old');
      renameSync(out, old);
    }
    renameSync(staged, out);
    log(`wrote ${out}`);
    return { out, model: summary.model, verify: report };
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(checkDir, { recursive: true, force: true });
  }
}

function runPython(python: string, args: string[], quiet: boolean): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => {
      if (quiet && code !== 0 && stderr) process.stderr.write(stderr);
      resolve({ code: code ?? 1, stdout });
    });
  });
}
