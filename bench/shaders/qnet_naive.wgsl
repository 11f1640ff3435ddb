// The naive q-net kernel, a benchmark baseline: one invocation per document runs the whole q-net alone,
// straight from the reference semantics, with no tiling, no workgroup memory and no register blocking.
// Activations live in two function-scope arrays; every weight is read from the storage buffer.
//   hidden layer j: y = ReLU(x·W_j + b_j); y = LayerNorm(y) (no affine, biased variance); y += x if residual
//   score = x·w_out
// {{MAX_H}}: the largest of dims[0..L] (array size), {{DOC_F16}}: documents as f16 pairs (else f32).

const MAX_H: u32 = {{MAX_H}}u;
const DOC_F16: bool = {{DOC_F16}};
const WG: u32 = 64u;

struct Params {
  n: u32,             // documents
  layers: u32,        // L hidden layers
  stride_words: u32,  // 32-bit words per document row
  eps: f32,
  residual_mask: u32, // bit j: residual on hidden layer j
  bias_base: u32,     // where the biases start in `weights` (after all matrices)
  groups_x: u32,      // workgroups along x (the grid is 2-D when N/64 > 65535)
  _pad: u32,
  dims: array<vec4<u32>, 3>, // dims[0..L+1], L <= 10
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> docs: array<u32>;
// W_0 (in×out, row-major), ..., W_L, then b_0, ..., b_{L-1}, all f32.
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> scores: array<f32>;

fn dim(j: u32) -> u32 {
  return P.dims[j / 4u][j % 4u];
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x + gid.y * P.groups_x * WG;
  if (r >= P.n) {
    return;
  }
  var x: array<f32, MAX_H>;
  var y: array<f32, MAX_H>;
  let d = dim(0u);
  let base = r * P.stride_words;
  for (var i = 0u; i < d; i++) {
    if (DOC_F16) {
      let pair = unpack2x16float(docs[base + i / 2u]);
      x[i] = select(pair.x, pair.y, (i & 1u) == 1u);
    } else {
      x[i] = bitcast<f32>(docs[base + i]);
    }
  }
  var w_off = 0u;
  var b_off = P.bias_base;
  for (var j = 0u; j < P.layers; j++) {
    let k = dim(j);
    let h = dim(j + 1u);
    var mean = 0.0;
    for (var o = 0u; o < h; o++) {
      var acc = weights[b_off + o];
      for (var i = 0u; i < k; i++) {
        acc += x[i] * weights[w_off + i * h + o];
      }
      acc = max(acc, 0.0);
      y[o] = acc;
      mean += acc;
    }
    mean /= f32(h);
    var var_sum = 0.0;
    for (var o = 0u; o < h; o++) {
      let t = y[o] - mean;
      var_sum += t * t;
    }
    let rstd = inverseSqrt(var_sum / f32(h) + P.eps);
    let res = ((P.residual_mask >> j) & 1u) == 1u;
    for (var o = 0u; o < h; o++) {
      var t = (y[o] - mean) * rstd;
      if (res) {
        t += x[o];
      }
      x[o] = t;
    }
    w_off += k * h;
    b_off += h;
  }
  let k = dim(P.layers);
  var s = 0.0;
  for (var i = 0u; i < k; i++) {
    s += x[i] * weights[w_off + i];
  }
  scores[r] = s;
}
