// The q-net as a standard ONNX graph, so that onnxruntime (web or node) can run the very same network:
// the baseline our WebGPU scorer is measured against, and a second, independent check of the semantics.
//
//   X [N, d] float32
//   hidden layer j:  H = MatMul(X, W_j); H = Add(H, b_j); H = Relu(H);
//                    H = LayerNormalization(H, scale = ones, bias = zeros, axis = -1, epsilon)   (opset 17)
//                    H = Add(H, X) when residual[j];  X = H
//   scores = MatMul(X, W_L)  → [N, 1]      (with no hidden layer, L = 0, this MatMul is the whole graph)
//
// Pure TypeScript, no DOM and no dependencies: the few protobuf messages of onnx.proto that a model needs
// (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto,
// TensorShapeProto, OperatorSetIdProto) are written by hand with their field numbers from onnx.proto.
// That is ~100 lines, far less than a protobuf runtime plus a schema, and the output is checked end to end
// by tests/qnetOnnx.test.ts through onnxruntime-node.
import { checkWeights, type QNetWeights } from './qnet';

export const QNET_ONNX_INPUT = 'X';
export const QNET_ONNX_OUTPUT = 'scores';
/** IR version 8 is the one that goes with opset 17 (ONNX 1.12). */
export const QNET_ONNX_IR_VERSION = 8;
export const QNET_ONNX_OPSET = 17;

// --- a minimal protobuf writer -------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private cur: number[] = [];
  length = 0;

  private flushCur(): void {
    if (this.cur.length) {
      this.chunks.push(Uint8Array.from(this.cur));
      this.cur = [];
    }
  }

  private byte(b: number): void {
    this.cur.push(b);
    this.length++;
  }

  /** Unsigned varint for any non-negative safe integer (int64 fields included: sizes here are < 2^53). */
  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`protobuf varint: need a non-negative safe integer, got ${v}`);
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
    return this;
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  uint(field: number, v: number): this {
    this.tag(field, WIRE_VARINT);
    return this.varint(v);
  }

  float(field: number, v: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.byte(x);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.varint(data.length);
    this.flushCur();
    this.chunks.push(data);
    this.length += data.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  /** A packed repeated varint field. */
  packed(field: number, values: number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    this.flushCur();
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

// onnx.proto field numbers and enums used below.
const TENSOR_FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_FLOAT = 1; // AttributeProto.AttributeType.FLOAT
const ATTR_INT = 2; // AttributeProto.AttributeType.INT

interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: { name: string; f?: number; i?: number }[];
}

interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array;
}

function writeTensor(w: ProtoWriter, t: Initializer): void {
  w.packed(1, t.dims); // dims
  w.uint(2, TENSOR_FLOAT); // data_type
  w.string(8, t.name); // name
  // raw_data: little-endian float32; copy so the bytes are exactly the tensor's.
  w.bytes(9, new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)));
}

function writeNode(w: ProtoWriter, n: Node, name: string): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, name);
  w.string(4, n.op);
  for (const a of n.attrs ?? []) {
    w.message(5, (aw) => {
      aw.string(1, a.name);
      if (a.f !== undefined) {
        aw.float(2, a.f);
        aw.uint(20, ATTR_FLOAT);
      } else {
        aw.uint(3, a.i!);
        aw.uint(20, ATTR_INT);
      }
    });
  }
}

/** dims: a number is a fixed size, a string a symbolic one. */
function writeValueInfo(w: ProtoWriter, name: string, dims: (number | string)[]): void {
  w.string(1, name);
  w.message(2, (tw) =>
    tw.message(1, (tt) => {
      tt.uint(1, TENSOR_FLOAT); // elem_type
      tt.message(2, (sw) => {
        for (const d of dims) sw.message(1, (dw) => (typeof d === 'number' ? dw.uint(1, d) : dw.string(2, d)));
      });
    }),
  );
}

export interface QNetOnnxOptions {
  /** Name of the symbolic batch dimension of X (default "N"). */
  batchDim?: string;
}

/**
 * Serializes the q-net with these weights as an ONNX model (opset 17). Weights are initializers, so the
 * model has one input, X [N, d] float32, and one output, scores [N, 1] float32.
 */
export function buildQNetOnnx(weights: QNetWeights, opts: QNetOnnxOptions = {}): Uint8Array {
  checkWeights(weights);
  const { dims, residual, layerNormEps } = weights.arch;
  const L = dims.length - 2;
  const nodes: Node[] = [];
  const inits: Initializer[] = [];
  let x = QNET_ONNX_INPUT;
  for (let j = 0; j < L; j++) {
    const [k, h] = [dims[j], dims[j + 1]];
    inits.push({ name: `W${j}`, dims: [k, h], data: weights.matrices[j] });
    inits.push({ name: `b${j}`, dims: [h], data: weights.biases[j] });
    inits.push({ name: `ln_scale${j}`, dims: [h], data: new Float32Array(h).fill(1) });
    inits.push({ name: `ln_bias${j}`, dims: [h], data: new Float32Array(h) });
    nodes.push({ op: 'MatMul', inputs: [x, `W${j}`], outputs: [`mm${j}`] });
    nodes.push({ op: 'Add', inputs: [`mm${j}`, `b${j}`], outputs: [`pre${j}`] });
    nodes.push({ op: 'Relu', inputs: [`pre${j}`], outputs: [`act${j}`] });
    nodes.push({
      op: 'LayerNormalization',
      inputs: [`act${j}`, `ln_scale${j}`, `ln_bias${j}`],
      outputs: [`ln${j}`],
      attrs: [
        // The last axis, written as the non-negative index 1 (X is rank 2): avoids a negative int64 varint.
        { name: 'axis', i: 1 },
        { name: 'epsilon', f: layerNormEps },
      ],
    });
    if (residual[j]) {
      nodes.push({ op: 'Add', inputs: [`ln${j}`, x], outputs: [`res${j}`] });
      x = `res${j}`;
    } else {
      x = `ln${j}`;
    }
  }
  inits.push({ name: `W${L}`, dims: [dims[L], 1], data: weights.matrices[L] });
  nodes.push({ op: 'MatMul', inputs: [x, `W${L}`], outputs: [QNET_ONNX_OUTPUT] });

  const batch = opts.batchDim ?? 'N';
  const model = new ProtoWriter();
  model.uint(1, QNET_ONNX_IR_VERSION); // ir_version
  model.string(2, 'hypencoder-web'); // producer_name
  model.string(3, '0.1.0'); // producer_version
  model.message(7, (g) => {
    nodes.forEach((n, i) => {
      g.message(1, (nw) => writeNode(nw, n, `${n.op}_${i}`));
    });
    g.string(2, 'qnet');
    for (const t of inits) g.message(5, (tw) => writeTensor(tw, t));
    g.message(11, (vw) => writeValueInfo(vw, QNET_ONNX_INPUT, [batch, dims[0]]));
    g.message(12, (vw) => writeValueInfo(vw, QNET_ONNX_OUTPUT, [batch, 1]));
  });
  model.message(8, (ow) => {
    ow.string(1, ''); // default domain
    ow.uint(2, QNET_ONNX_OPSET);
  });
  return model.finish();
}
