// Checks an exported bundle with onnxruntime-node against PyTorch's outputs for a sample query and
// two documents (written by export_onnx.py --check-out). Node only.
import path from 'node:path';
import { loadOnnxRuntimeNode, type OnnxRuntimeNode } from './onnxRuntime.ts';

export interface TorchCheck {
  query: { input_ids: number[]; attention_mask: number[]; outputs: Record<string, number[]> };
  /** cls: PyTorch's document vectors (CLS, or a dense model's pooled vectors). */
  docs: { input_ids: number[][]; attention_mask: number[][]; cls: number[][] };
}

export interface VerifyReport {
  ok: boolean;
  /** Max |ONNX − PyTorch| over every q-net tensor, and that divided by max |PyTorch value|. */
  qnetMaxAbs: number;
  qnetMaxRel: number;
  clsMaxAbs: number;
  clsMaxRel: number;
  tolerance: number;
  worst: string;
}

/**
 * Relative tolerances (max abs difference / max abs value) for the sanity check after conversion.
 * fp32: onnxruntime and PyTorch differ only in float32 summation order (measured ~1e-6 on small
 * models, ~1e-5 on BERT-base); 1e-3 leaves room while any graph error (a wrong transpose, a missing
 * mask) shows up at O(1). fp16 stores weights rounded to half precision (relative error 2^-11 each),
 * which propagates through the encoder to a few 1e-3; 5e-2 still catches a broken graph.
 * int8 rounds each weight by up to 1/254 of its channel's absmax (symmetric per-channel scales,
 * training/quantize_onnx.py), 8x fp16's step for a weight near its channel's absmax and more for the
 * small ones. Measured q-net error: 0.9–2.5e-2 on the tests' small random models, 5.5e-2 on a random
 * BERT-base with a 6-layer q-net, 4.5e-2 for the default model against its fp16 file — with
 * DequantizeLinear, which onnxruntime-node turns into MatMulNBits with int8 activations; the exact
 * cast-mul form: 1.4e-2 and 2.4e-2. 1e-1 keeps a 2x margin and still fails scales applied to the wrong
 * channels (measured 0.45 q-net, 0.14 CLS).
 */
export const VERIFY_TOLERANCE = { fp32: 1e-3, fp16: 5e-2, int8: 1e-1 } as const;

type Ort = OnnxRuntimeNode;

function int64(ort: Ort, rows: number[][]): InstanceType<Ort['Tensor']> {
  const S = rows[0].length;
  return new ort.Tensor('int64', BigInt64Array.from(rows.flat().map((v) => BigInt(v))), [rows.length, S]);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; scale: number } {
  if (a.length !== b.length) return { abs: Infinity, scale: 1 };
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= abs)) abs = Number.isNaN(d) ? Infinity : Math.max(abs, d);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { abs, scale: scale || 1 };
}

/** null when onnxruntime-node is not installed. */
export async function verifyBundleAgainstTorch(bundleDir: string, check: TorchCheck, dtype: keyof typeof VERIFY_TOLERANCE): Promise<VerifyReport | null> {
  const ort = await loadOnnxRuntimeNode();
  if (!ort) return null;
  const tolerance = VERIFY_TOLERANCE[dtype];
  const q = await ort.InferenceSession.create(path.join(bundleDir, 'query_encoder.onnx'));
  const qo = await q.run({ input_ids: int64(ort, [check.query.input_ids]), attention_mask: int64(ort, [check.query.attention_mask]) });
  let qnetMaxAbs = 0;
  let qnetMaxRel = 0;
  let worst = '';
  for (const [name, ref] of Object.entries(check.query.outputs)) {
    const t = qo[name];
    if (!t)
      return {
        ok: false,
        qnetMaxAbs: Infinity,
        qnetMaxRel: Infinity,
        clsMaxAbs: NaN,
        clsMaxRel: NaN,
        tolerance,
        worst: `query_encoder.onnx has no output ${name}`,
      };
    const { abs, scale } = maxAbsDiff(t.data as Float32Array, ref);
    if (abs / scale > qnetMaxRel) worst = `${name}: max |Δ| ${abs.toExponential(2)} of max |value| ${scale.toExponential(2)}`;
    qnetMaxAbs = Math.max(qnetMaxAbs, abs);
    qnetMaxRel = Math.max(qnetMaxRel, abs / scale);
  }
  await q.release();
  const d = await ort.InferenceSession.create(path.join(bundleDir, 'doc_encoder.onnx'));
  const dout = await d.run({ input_ids: int64(ort, check.docs.input_ids), attention_mask: int64(ort, check.docs.attention_mask) });
  const cls = maxAbsDiff(dout[d.outputNames[0]].data as Float32Array, check.docs.cls.flat()); // "cls", or a dense model's "embedding"
  await d.release();
  const clsMaxRel = cls.abs / cls.scale;
  if (clsMaxRel > qnetMaxRel) worst = `doc_encoder.onnx cls: max |Δ| ${cls.abs.toExponential(2)} of max |value| ${cls.scale.toExponential(2)}`;
  const ok = qnetMaxRel <= tolerance && clsMaxRel <= tolerance;
  return { ok, qnetMaxAbs, qnetMaxRel, clsMaxAbs: cls.abs, clsMaxRel, tolerance, worst };
}
