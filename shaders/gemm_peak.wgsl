// Plain f32 GEMM, C[M,N] = A[M,K]·B[K,N], row-major: the benchmark's yardstick for the adapter's
// matrix-multiply peak. Tiled: a workgroup computes a BM×BN block of C, stepping through K by BK with
// both operand tiles staged in workgroup memory; register blocking: each invocation accumulates a
// TM×(4·TNV) sub-block in registers (vec4 along N), so every workgroup-memory read feeds several FMAs.
// Sizes must be multiples of the tile (M % BM, N % BN, K % BK == 0): a peak kernel, no edge handling.
// Placeholders {{BM}} {{BN}} {{BK}} {{TM}} {{TNV}} are filled by src/gpu/gemmPeak.ts per configuration.

const BM: u32 = {{BM}}u;
const BN: u32 = {{BN}}u;
const BK: u32 = {{BK}}u;
const TM: u32 = {{TM}}u;
const TNV: u32 = {{TNV}}u;       // vec4 columns per invocation
const BNV: u32 = BN / 4u;        // vec4 columns per tile
const WX: u32 = BNV / TNV;       // invocations along N
const WY: u32 = BM / TM;         // invocations along M
const THREADS: u32 = WX * WY;

struct Dims {
  M: u32,
  N: u32,
  K: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;

var<workgroup> As: array<f32, BK * BM>;         // [k][m]: an invocation's TM rows are contiguous
var<workgroup> Bs: array<vec4<f32>, BK * BNV>;  // [k][n/4]

@compute @workgroup_size(WX, WY)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let K = dims.K;
  let NV = dims.N / 4u;
  let row0 = wg.y * BM;
  let colv0 = wg.x * BNV;
  var acc: array<vec4<f32>, TM * TNV>;
  for (var i = 0u; i < TM * TNV; i++) {
    acc[i] = vec4<f32>(0.0);
  }
  var a: array<f32, TM>;
  var b: array<vec4<f32>, TNV>;
  for (var k0 = 0u; k0 < K; k0 += BK) {
    // Stage A's BM×BK tile (transposed) and B's BK×BN tile, coalesced along the rows of A and B.
    for (var e = li; e < BM * BK; e += THREADS) {
      let m = e / BK;
      let k = e % BK;
      As[k * BM + m] = A[(row0 + m) * K + k0 + k];
    }
    for (var e = li; e < BK * BNV; e += THREADS) {
      let k = e / BNV;
      let c = e % BNV;
      Bs[e] = B[(k0 + k) * NV + colv0 + c];
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      for (var i = 0u; i < TM; i++) {
        a[i] = As[k * BM + lid.y * TM + i];
      }
      for (var j = 0u; j < TNV; j++) {
        b[j] = Bs[k * BNV + lid.x * TNV + j];
      }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TNV; j++) {
          acc[i * TNV + j] = fma(vec4<f32>(a[i]), b[j], acc[i * TNV + j]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < TM; i++) {
    let row = row0 + lid.y * TM + i;
    for (var j = 0u; j < TNV; j++) {
      C[row * NV + colv0 + lid.x * TNV + j] = acc[i * TNV + j];
    }
  }
}
