// One hidden layer of the q-net over a batch of documents, fully fused:
//   y = ReLU(x·W + b); y = LayerNorm(y) (no affine, biased variance); y += x if RESIDUAL
// and, for the last hidden layer, the final dot product score = y·w_out.
// A workgroup owns BM documents and all N outputs of them (LayerNorm needs the whole row):
// for each BN-wide column block it runs a tiled GEMM through workgroup memory, each thread
// holding TM rows × 4·TNV columns in vec4 registers, and keeps the pre-norm values in y_out.
// Two more sweeps over the thread's own values give the exact centered variance and then the
// normalized output. The double-brace placeholders are filled by src/gpu/layerWgsl.ts;
// the unrolled register block (ACC_*) is generated there, because SwiftShader turns dynamically
// indexed private arrays into per-lane memory accesses (a version with acc[i][j] ran 4–5× slower).
// QUAD_A (direct only, needs the subgroups feature): the four lanes of a quad share their rows, so each
// loads one of four adjacent inputs and quadBroadcast hands all four to every lane — a quarter of
// the input loads (on SwiftShader every load is a gather; see layerTiling.ts).
// WHOLE_ROW (with QUAD_A, N ≤ BN): one column block holds the whole row, so the LayerNorm runs on the
// registers (ROW_EPILOGUE): no pre-norm store and no sweeps over y_out, one store per output.
{{ENABLE}}

const K: u32 = {{K}}u;               // input size of this layer
const N: u32 = {{N}}u;               // output size of this layer
const STRIDE: u32 = {{STRIDE}}u;     // 32-bit words per input row
const RESIDUAL: bool = {{RESIDUAL}};
const LAST: bool = {{LAST}};
const EPS: f32 = {{EPS}};
const DIRECT: bool = {{DIRECT}};
const WHOLE_ROW: bool = {{WHOLE_ROW}};
// Threads whose row partials are added before workgroup memory: 4 where each quad adds its own with
// lane_sum (whole rows: fewer slots to read back), else 1 (lane_sum is the identity).
const SUM_LANES: u32 = {{SUM_LANES}}u;

const BM: u32 = {{BM}}u;             // documents per workgroup
const BN: u32 = {{BN}}u;             // columns per block
const BK: u32 = {{BK}}u;             // k per workgroup-memory tile (a multiple of 4)
const TM: u32 = {{TM}}u;             // rows per thread
const TNV: u32 = {{TNV}}u;           // vec4 column groups per thread
const WX: u32 = BN / (4u * TNV);     // threads across columns
const WY: u32 = BM / TM;             // threads across rows
const THREADS: u32 = WX * WY;
const BK4: u32 = BK / 4u;
const BN4: u32 = BN / 4u;

{{BATCH_PARAMS}}
@group(0) @binding(1) var<storage, read> x_in: array<{{X_ELEM}}>;   // rows of STRIDE words
@group(0) @binding(2) var<storage, read> w: array<{{W_ELEM}}>;      // K × N f32, row-major
@group(0) @binding(3) var<storage, read> bias: array<f32>;         // N
@group(0) @binding(4) var<storage, read_write> y_out: array<{{Y_ELEM}}>; // rows × N f32 (vec4 where N allows)
@group(0) @binding(5) var<storage, read> absmax: array<f32>;       // K, int8 input only
@group(0) @binding(6) var<storage, read> w_out: array<f32>;        // N, last layer only
@group(0) @binding(7) var<storage, read_write> scores: array<f32>; // last layer only

// The direct kernel never reads the tiles: one entry each keeps them out of its workgroup memory.
var<workgroup> a_tile: array<vec4<f32>, select(BM * BK4, 1u, DIRECT)>;   // [m][k/4]: four adjacent k per entry
var<workgroup> b_tile: array<vec4<f32>, select(BK * BN4, 1u, DIRECT)>;   // [k][n/4]: four adjacent columns per entry
var<workgroup> row_part: array<f32, BM * WX / SUM_LANES>; // per-row partial sums, one per slot

// The loaders are generated for this layer's input storage and alignment (layerWgsl.ts), around the
// storage's stored_value / stored_vec4 (shaders/storage_<dtype>.wgsl, spliced in first):
//   load_x(row, k) -> f32            one input value (residual)
//   load_x4_at(word, k) -> vec4<f32> inputs k .. k+3 of the row starting at word `word`, zero past K
//   load_w4(k, c) -> vec4<f32>       weights k, columns c .. c+3, zero outside W
//   load_x1_at(word, k) -> f32       input k of the row starting at word `word`, zero past K (QUAD_A)
//   load_y(i) -> f32, store_y(i, v)  element i of y_out, whatever its element type
//   store_y4(r, c, v)                outputs c .. c+3 of row r, those inside N (WHOLE_ROW)
//   lane_sum(v) -> f32               v summed over the SUM_LANES threads that share a slot
// With vector element types where the sizes allow (one 16-byte load instead of four).
{{LOADERS}}

// Adds the bias, applies ReLU, stores four adjacent outputs of one row; returns their sum.
fn store_relu(r: u32, c: u32, acc: vec4<f32>) -> f32 {
  var sum = 0.0;
  if (r < params.rows) {
    for (var q = 0u; q < 4u; q++) {
      if (c + q < N) {
        let v = max(acc[q] + bias[c + q], 0.0);
        store_y(r * N + c + q, v);
        sum += v;
      }
    }
  }
  return sum;
}

// Sums the per-thread partials of each of this thread's rows across the WX column threads: each group
// of SUM_LANES threads adds its own first and its first thread writes the group's slot.
fn reduce_rows(part: ptr<function, array<f32, TM>>, ty: u32, tx: u32) -> array<f32, TM> {
  const SLOTS = WX / SUM_LANES;
  for (var i = 0u; i < TM; i++) {
    let s = lane_sum((*part)[i]);
    if (tx % SUM_LANES == 0u) {
      row_part[(ty + i * WY) * SLOTS + tx / SUM_LANES] = s;
    }
  }
  workgroupBarrier();
  var total: array<f32, TM>;
  for (var i = 0u; i < TM; i++) {
    var s = 0.0;
    for (var t = 0u; t < SLOTS; t++) {
      s += row_part[(ty + i * WY) * SLOTS + t];
    }
    total[i] = s;
  }
  workgroupBarrier();
  return total;
}

// Column c of the thread's column group g (g < TNV, q < 4) inside the block starting at n0.
fn col(n0: u32, tx: u32, g: u32, q: u32) -> u32 {
  return n0 + (tx + g * WX) * 4u + q;
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u{{QUAD_PARAM}}) {
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * WX + tx;
  let row0 = wid.x * BM;
  let rows = params.rows;

  // Pass 1: GEMM + bias + ReLU, column block by column block; the row sums come along.
  // Thread (tx, ty) owns rows ty + i·WY (i < TM) and column groups tx + g·WX (g < TNV).
  var part: array<f32, TM>;
  let last_row = rows - 1u;
{{ACC_DECL_OUTER}}
  for (var n0 = 0u; n0 < N; n0 += BN) {
{{ACC_DECL}}
    // DIRECT: operands straight from storage, no workgroup memory and no barriers (caches do the
    // tiling). Faster where barriers are expensive, as on CPU-emulated adapters; see layerTiling.ts.
{{DIRECT_BASES}}
    for (var k = 0u; DIRECT && k < K; k += 4u) {
{{ACC_FMA_DIRECT}}
    }
    for (var k0 = 0u; !DIRECT && k0 < K; k0 += BK) {
      for (var e = tid; e < BM * BK4; e += THREADS) {
        let m = e / BK4;
        let k = k0 + (e % BK4) * 4u;
        var v = vec4<f32>(0.0);
        if (row0 + m < rows && k < K) {
          v = load_x4_at(params.in_offset + (row0 + m) * STRIDE, k);
        }
        a_tile[e] = v;
      }
      for (var e = tid; e < BK * BN4; e += THREADS) {
        b_tile[e] = load_w4(k0 + e / BN4, n0 + (e % BN4) * 4u);
      }
      workgroupBarrier();
      for (var k = 0u; k < BK; k += 4u) {
        let kq = k / 4u;
{{ACC_FMA}}
      }
      workgroupBarrier();
    }
{{ACC_STORE}}
  }
  if (WHOLE_ROW) {
{{ROW_EPILOGUE}}
    return;
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
      for (var g = 0u; g < TNV; g++) {
        for (var q = 0u; q < 4u; q++) {
          let c = col(n0, tx, g, q);
          if (r < rows && c < N) {
            let dv = load_y(r * N + c) - mean[i];
            part[i] += dv * dv;
          }
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
      for (var g = 0u; g < TNV; g++) {
        for (var q = 0u; q < 4u; q++) {
          let c = col(n0, tx, g, q);
          if (r < rows && c < N) {
            var v = (load_y(r * N + c) - mean[i]) * rstd[i];
            if (RESIDUAL) {
              v += load_x(r, c);
            }
            if (LAST) {
              part[i] += v * w_out[c];
            } else {
              store_y(r * N + c, v);
            }
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
