// Gathers candidate document rows into one compact buffer, so the fused layer kernels
// (qnet_layer.wgsl) score a list of ids exactly as they score a contiguous batch.
// One dispatch per resident document buffer: each thread copies one 32-bit word of one candidate
// row when the candidate lives in this buffer (ids first_doc … first_doc + rows − 1); the other
// buffers' dispatches fill the other rows. Rows are copied as stored (f16 pairs, f32, int8 quads).
// Placeholders are filled by src/gpu/gatherScorer.ts.

const STRIDE: u32 = {{STRIDE}}u;     // 32-bit words per document row
const THREADS: u32 = {{THREADS}}u;
const ROW_SPAN: u32 = {{ROW_SPAN}}u; // threads per dispatch row (x) when the grid is 2-D

struct Params {
  count: u32,      // candidates in ids
  first_doc: u32,  // first document held by `docs`
  rows: u32,       // documents held by `docs`
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> docs: array<u32>;
@group(0) @binding(3) var<storage, read_write> gathered: array<u32>; // count × STRIDE

@compute @workgroup_size(THREADS)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.y * ROW_SPAN + gid.x;
  if (e >= params.count * STRIDE) {
    return;
  }
  let c = e / STRIDE;
  let word = e - c * STRIDE;
  let id = ids[c];
  if (id >= params.first_doc && id - params.first_doc < params.rows) {
    gathered[e] = docs[(id - params.first_doc) * STRIDE + word];
  }
}
