// A q-net with no hidden layer (dims [d, 1]): score = x · w_out, the inner product of each document
// with the query embedding. One thread per document reads its stored row through the storage dtype's
// stored_value (shaders/storage_<dtype>.wgsl, spliced in as LOADER) and writes its score for the top-k.
// Its parameter slot is the layers' (shaders/batch_params.wgsl: rows, in_offset, score_offset);
// placeholders are filled by src/gpu/dotWgsl.ts.

const K: u32 = {{K}}u;               // document size d
const STRIDE: u32 = {{STRIDE}}u;     // 32-bit words per stored row
const WORD_SHIFT: u32 = {{WORD_SHIFT}}u; // value k lives in word k >> WORD_SHIFT of its row
const ROWS: u32 = {{ROWS}}u;         // documents per workgroup

{{BATCH_PARAMS}}
@group(0) @binding(1) var<storage, read> x_in: array<u32>;          // rows of STRIDE words
@group(0) @binding(2) var<storage, read> absmax: array<f32>;        // K, int8 storage only
@group(0) @binding(3) var<storage, read> w_out: array<f32>;         // K
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;

{{LOADER}}

@compute @workgroup_size(ROWS)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= params.rows) {
    return;
  }
  let base = params.in_offset + r * STRIDE;
  var s = 0.0;
  for (var k = 0u; k < K; k++) {
    s = fma(stored_value(x_in[base + (k >> WORD_SHIFT)], k), w_out[k], s);
  }
  scores[params.score_offset + r] = s;
}
