// Checks what the QUAD_A layer kernel assumes about subgroups (qnet_layer.wgsl): the four lanes of
// every quad are threads of the same row of the workgroup (the same local_invocation_id.y), so they
// need the same rows of documents; and they are the threads x = 4q .. 4q+3 in lane order, so the
// whole-row reduction can let lane x & 3 == 0 write the quad's sum to slot x / 4. WebGPU does not
// promise how subgroup lanes map onto a workgroup, so src/gpu/quadLayout.ts runs this once per
// device and workgroup shape before using QUAD_A.
enable subgroups;

const WX: u32 = {{WX}}u;
const WY: u32 = {{WY}}u;

@group(0) @binding(0) var<storage, read_write> mismatches: atomic<u32>;

@compute @workgroup_size(WX, WY)
fn main(@builtin(local_invocation_id) lid: vec3u) {
  // Separate lets, not &&: every quadBroadcast must run in uniform control flow.
  let r0 = quadBroadcast(lid.y, 0u);
  let r1 = quadBroadcast(lid.y, 1u);
  let r2 = quadBroadcast(lid.y, 2u);
  let r3 = quadBroadcast(lid.y, 3u);
  let x0 = quadBroadcast(lid.x, 0u);
  let x1 = quadBroadcast(lid.x, 1u);
  let x2 = quadBroadcast(lid.x, 2u);
  let x3 = quadBroadcast(lid.x, 3u);
  let first = lid.x & ~3u;
  let aligned = x0 == first && x1 == first + 1u && x2 == first + 2u && x3 == first + 3u;
  if (r0 != lid.y || r1 != lid.y || r2 != lid.y || r3 != lid.y || !aligned) {
    atomicAdd(&mismatches, 1u);
  }
}
