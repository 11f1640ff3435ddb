// Plain f32 GEMM, C[M,N] = A[M,K]·B[K,N], row-major: the benchmark's yardstick for the adapter's
// matrix-multiply peak (bench/gemmPeak.ts tries several configurations and keeps the fastest).
//
// Register blocking: every invocation accumulates a TM × 4·TNV block of C in vec4 registers; k advances
// 4 at a time (A read as vec4 along k), so each loaded value feeds several FMAs. The register block is
// written out unrolled by gemmPeak.ts (the ACC_DECL, LOAD_*, FMA and STORE placeholders): with loops over
// small private arrays some compilers (SwiftShader's among them) keep the block in memory, not registers.
//
// Two entry points:
//   main_tiled  — a workgroup computes a BM × BN tile of C (BM = TM·WY, BN = 4·TNV·WX), stepping through
//                 K by BK with both operand tiles staged in workgroup memory (the classic GPU GEMM);
//   main_direct — the same register block reading A and B straight from the storage buffers (caches do
//                 the tiling). On SwiftShader this wins: its workgroup barriers are expensive.
//                 Its 'quad' variant (gemmPeak.ts kind 'quad', needs subgroups): the four lanes of a
//                 quad hold the same rows, so each loads one of four adjacent A values from the scalar
//                 view Af and quadBroadcast hands them round (SwiftShader makes every such load a gather).
// Sizes must be multiples of the tile (a peak kernel: no edge handling); gemmPeak.ts checks them.
{{ENABLE}}

const WX: u32 = {{WX}}u;
const WY: u32 = {{WY}}u;
const TM: u32 = {{TM}}u;
const TNV: u32 = {{TNV}}u;        // vec4 columns per invocation
const BK: u32 = {{BK}}u;          // K step of main_tiled (a multiple of 4)
const BM: u32 = TM * WY;
const BNV: u32 = TNV * WX;        // vec4 columns per tile
const BKV: u32 = BK / 4u;
const THREADS: u32 = WX * WY;

struct Dims {
  M: u32,
  N: u32,
  K: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;   // [M][K/4]
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;   // [K][N/4]
@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;  // [M][N/4]
@group(0) @binding(4) var<storage, read> Af: array<f32>;             // A again, as scalars (quad only)

var<workgroup> As: array<vec4<f32>, BM * BKV>;   // [m][k/4]
var<workgroup> Bs: array<vec4<f32>, BK * BNV>;   // [k][n/4]

@compute @workgroup_size(WX, WY)
fn main_tiled(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
              @builtin(local_invocation_index) li: u32) {
  let KV = dims.K / 4u;
  let NV = dims.N / 4u;
  let row0 = wg.y * BM;          // first row of the workgroup's tile
  let cv0 = wg.x * BNV;          // first vec4 column of the tile
  let r = lid.y * TM;            // the invocation's rows within the tile
  let cv = lid.x * TNV;          // and vec4 columns
  {{ACC_DECL}}
  for (var k0 = 0u; k0 < KV; k0 += BKV) {
    // Stage the tiles; consecutive invocations read consecutive words of A's and B's rows.
    for (var e = li; e < BM * BKV; e += THREADS) {
      As[e] = A[(row0 + e / BKV) * KV + k0 + e % BKV];
    }
    for (var e = li; e < BK * BNV; e += THREADS) {
      Bs[e] = B[(k0 * 4u + e / BNV) * NV + cv0 + e % BNV];
    }
    workgroupBarrier();
    for (var kv = 0u; kv < BKV; kv++) {
      {{LOAD_SHARED}}
      {{FMA}}
    }
    workgroupBarrier();
  }
  let rowBase = row0 + r;
  let colBase = cv0 + cv;
  {{STORE}}
}

@compute @workgroup_size(WX, WY)
fn main_direct(@builtin(global_invocation_id) gid: vec3<u32>{{DIRECT_PARAMS}}) {
  let KV = dims.K / 4u;
  let NV = dims.N / 4u;
  let rowBase = gid.y * TM;
  let colBase = gid.x * TNV;
  {{ACC_DECL}}
  for (var kv = 0u; kv < KV; kv++) {
    {{LOAD_GLOBAL}}
    {{FMA}}
  }
  {{STORE}}
}
