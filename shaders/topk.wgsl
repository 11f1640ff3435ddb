// Top-k selection, one step: each workgroup sorts CHUNK (score, index) pairs in workgroup memory
// with a bitonic network and writes its best P (P a power of two ≥ k). The first step reads raw
// scores (FIRST); later steps read the previous step's lists, until one list remains.
// Order: higher score first, then lower index, a total order so ties break the same everywhere.
// NaN scores sort last, with -inf. The first step skips documents whose bit in `keep` is 0 (a
// filter: src/core/facets.ts passageMask; all ones when none), so they never take a place in the
// top k; such a place holds index NONE, which the reader drops. The double-brace placeholders are
// filled by src/gpu/topkProgram.ts.

const FIRST: bool = {{FIRST}};
const THREADS: u32 = {{THREADS}}u;
const CHUNK: u32 = THREADS * 4u;
const NONE: u32 = 0xffffffffu;

struct Params {
  count: u32,  // input elements (scores or pairs)
  p: u32,      // pairs kept per workgroup
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scores_in: array<f32>;          // FIRST
@group(0) @binding(2) var<storage, read> pairs_in: array<vec2<u32>>;     // later steps: (bits of score, index)
@group(0) @binding(3) var<storage, read_write> pairs_out: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read> keep: array<u32>;               // FIRST: bit g of word g / 32

var<workgroup> key: array<f32, CHUNK>;
var<workgroup> idx: array<u32, CHUNK>;

fn better(sa: f32, ia: u32, sb: f32, ib: u32) -> bool {
  return sa > sb || (sa == sb && ia < ib);
}

@compute @workgroup_size(THREADS)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let t = lid.x;
  let base = wid.x * CHUNK;
  let lowest = bitcast<f32>(0xff7fffffu); // the lowest finite f32 stands in for -inf and NaN
  for (var e = t; e < CHUNK; e += THREADS) {
    var s = lowest;
    var i = NONE;
    let g = base + e;
    if (g < params.count) {
      if (FIRST) {
        if (((keep[g >> 5u] >> (g & 31u)) & 1u) == 1u) {
          s = scores_in[g];
          i = g;
        }
      } else {
        let pr = pairs_in[g];
        s = bitcast<f32>(pr.x);
        i = pr.y;
      }
      if (!(s >= lowest)) {
        s = lowest; // NaN or -inf
      }
    }
    key[e] = s;
    idx[e] = i;
  }
  workgroupBarrier();
  for (var size = 2u; size <= CHUNK; size <<= 1u) {
    for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
      for (var q = t; q < CHUNK / 2u; q += THREADS) {
        let a = 2u * stride * (q / stride) + (q % stride);
        let b = a + stride;
        let descending = (a & size) == 0u;
        let sa = key[a];
        let sb = key[b];
        let ia = idx[a];
        let ib = idx[b];
        if (better(sb, ib, sa, ia) == descending) {
          key[a] = sb;
          key[b] = sa;
          idx[a] = ib;
          idx[b] = ia;
        }
      }
      workgroupBarrier();
    }
  }
  for (var e = t; e < params.p; e += THREADS) {
    pairs_out[wid.x * params.p + e] = vec2<u32>(bitcast<u32>(key[e]), idx[e]);
  }
}
