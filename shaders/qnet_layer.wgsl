// One hidden layer of the q-net over a batch of documents, fully fused:
//   y = ReLU(x·W + b); y = LayerNorm(y) (no affine, biased variance); y += x if RESIDUAL
// and, for the last hidden layer, the final dot product score = y·w_out.
// A workgroup owns BM documents and all N outputs of them (LayerNorm needs the whole row):
// for each BN-wide column block it runs a tiled GEMM through workgroup memory, each thread
// holding a TM×TN register block, and keeps the pre-norm values in y_out. Two more sweeps over
// the thread's own values give the exact centered variance and then the normalized output.
// The double-brace placeholders are filled by src/gpu/qnetLayerProgram.ts.

const K: u32 = {{K}}u;               // input size of this layer
const N: u32 = {{N}}u;               // output size of this layer
const STRIDE: u32 = {{STRIDE}}u;     // 32-bit words per input row
const FORMAT: u32 = {{FORMAT}}u;     // input words: 0 f32, 1 two f16, 2 four int8 (snorm · absmax)
const RESIDUAL: bool = {{RESIDUAL}};
const LAST: bool = {{LAST}};
const EPS: f32 = {{EPS}};

const BM: u32 = {{BM}}u;
const BN: u32 = {{BN}}u;
const BK: u32 = {{BK}}u;
const TM: u32 = {{TM}}u;
const TN: u32 = {{TN}}u;
const WX: u32 = BN / TN;             // threads across columns
const WY: u32 = BM / TM;             // threads across rows
const THREADS: u32 = WX * WY;

struct Params {
  rows: u32,          // documents in this batch
  in_offset: u32,     // word offset of the batch's first row in x_in
  score_offset: u32,  // index of the batch's first document in scores
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x_in: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;            // K × N, row-major
@group(0) @binding(3) var<storage, read> bias: array<f32>;         // N
@group(0) @binding(4) var<storage, read_write> y_out: array<f32>;  // rows × N
@group(0) @binding(5) var<storage, read> absmax: array<f32>;       // K, int8 input only
@group(0) @binding(6) var<storage, read> w_out: array<f32>;        // N, last layer only
@group(0) @binding(7) var<storage, read_write> scores: array<f32>; // last layer only

var<workgroup> a_tile: array<f32, BK * BM>;   // [k][m]
var<workgroup> b_tile: array<f32, BK * BN>;   // [k][n]
var<workgroup> row_part: array<f32, BM * WX>; // per-row partial sums, one per column thread

fn load_x(row: u32, k: u32) -> f32 {
  let base = params.in_offset + row * STRIDE;
  if (FORMAT == 0u) {
    return bitcast<f32>(x_in[base + k]);
  } else if (FORMAT == 1u) {
    let pair = unpack2x16float(x_in[base + (k >> 1u)]);
    return select(pair.x, pair.y, (k & 1u) == 1u);
  }
  let quad = unpack4x8snorm(x_in[base + (k >> 2u)]);
  return quad[k & 3u] * absmax[k];
}

// Sums the per-thread partials of each of this thread's rows across the WX column threads.
fn reduce_rows(part: ptr<function, array<f32, TM>>, ty: u32, tx: u32) -> array<f32, TM> {
  for (var i = 0u; i < TM; i++) {
    row_part[(ty + i * WY) * WX + tx] = (*part)[i];
  }
  workgroupBarrier();
  var total: array<f32, TM>;
  for (var i = 0u; i < TM; i++) {
    var s = 0.0;
    for (var t = 0u; t < WX; t++) {
      s += row_part[(ty + i * WY) * WX + t];
    }
    total[i] = s;
  }
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * WX + tx;
  let row0 = wid.x * BM;
  let rows = params.rows;

  // Pass 1: GEMM + bias + ReLU, column block by column block; the row sums come along.
  var part: array<f32, TM>;
  for (var n0 = 0u; n0 < N; n0 += BN) {
    // Zeroed explicitly: SwiftShader was seen to keep the previous iteration's values in a
    // var declared inside a loop, although WGSL says every declaration starts at zero.
    var acc: array<array<f32, TN>, TM>;
    for (var i = 0u; i < TM; i++) {
      for (var j = 0u; j < TN; j++) {
        acc[i][j] = 0.0;
      }
    }
    for (var k0 = 0u; k0 < K; k0 += BK) {
      for (var e = tid; e < BM * BK; e += THREADS) {
        let m = e / BK;
        let k = e % BK;
        var v = 0.0;
        if (row0 + m < rows && k0 + k < K) {
          v = load_x(row0 + m, k0 + k);
        }
        a_tile[k * BM + m] = v;
      }
      for (var e = tid; e < BK * BN; e += THREADS) {
        let k = e / BN;
        let n = e % BN;
        var v = 0.0;
        if (k0 + k < K && n0 + n < N) {
          v = w[(k0 + k) * N + n0 + n];
        }
        b_tile[e] = v;
      }
      workgroupBarrier();
      for (var k = 0u; k < BK; k++) {
        var a: array<f32, TM>;
        var b: array<f32, TN>;
        for (var i = 0u; i < TM; i++) {
          a[i] = a_tile[k * BM + ty + i * WY];
        }
        for (var j = 0u; j < TN; j++) {
          b[j] = b_tile[k * BN + tx + j * WX];
        }
        for (var i = 0u; i < TM; i++) {
          for (var j = 0u; j < TN; j++) {
            acc[i][j] = fma(a[i], b[j], acc[i][j]);
          }
        }
      }
      workgroupBarrier();
    }
    for (var i = 0u; i < TM; i++) {
      let r = row0 + ty + i * WY;
      for (var j = 0u; j < TN; j++) {
        let c = n0 + tx + j * WX;
        if (r < rows && c < N) {
          let v = max(acc[i][j] + bias[c], 0.0);
          y_out[r * N + c] = v;
          part[i] += v;
        }
      }
    }
  }
  var mean = reduce_rows(&part, ty, tx);
  for (var i = 0u; i < TM; i++) {
    mean[i] = mean[i] / f32(N);
    part[i] = 0.0;
  }

  // Pass 2: the centered sum of squares (exact two-pass variance, no cancellation).
  for (var n0 = 0u; n0 < N; n0 += BN) {
    for (var i = 0u; i < TM; i++) {
      let r = row0 + ty + i * WY;
      for (var j = 0u; j < TN; j++) {
        let c = n0 + tx + j * WX;
        if (r < rows && c < N) {
          let dv = y_out[r * N + c] - mean[i];
          part[i] += dv * dv;
        }
      }
    }
  }
  let sq = reduce_rows(&part, ty, tx);
  var rstd: array<f32, TM>;
  for (var i = 0u; i < TM; i++) {
    rstd[i] = inverseSqrt(sq[i] / f32(N) + EPS);
    part[i] = 0.0;
  }

  // Pass 3: normalize, add the residual; the last layer folds in the output dot product.
  for (var n0 = 0u; n0 < N; n0 += BN) {
    for (var i = 0u; i < TM; i++) {
      let r = row0 + ty + i * WY;
      for (var j = 0u; j < TN; j++) {
        let c = n0 + tx + j * WX;
        if (r < rows && c < N) {
          var v = (y_out[r * N + c] - mean[i]) * rstd[i];
          if (RESIDUAL) {
            v += load_x(r, c);
          }
          if (LAST) {
            part[i] += v * w_out[c];
          } else {
            y_out[r * N + c] = v;
          }
        }
      }
    }
  }
  if (LAST) {
    let dot = reduce_rows(&part, ty, tx);
    if (tx == 0u) {
      for (var i = 0u; i < TM; i++) {
        let r = row0 + ty + i * WY;
        if (r < rows) {
          scores[params.score_offset + r] = dot[i];
        }
      }
    }
  }
}
