// Checks the one thing the QUAD_A layer kernel assumes about subgroups (qnet_layer.wgsl): the four
// lanes of every quad are threads of the same row of the workgroup (the same local_invocation_id.y),
// so they need the same rows of documents. WebGPU does not promise how subgroup lanes map onto a
// workgroup, so src/gpu/quadLayout.ts runs this once per device before using QUAD_A.
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
  if (r0 != lid.y || r1 != lid.y || r2 != lid.y || r3 != lid.y) {
    atomicAdd(&mismatches, 1u);
  }
}
