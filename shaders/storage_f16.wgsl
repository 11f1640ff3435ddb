// f16 storage (src/core/storageCodecs.ts): two halves per 32-bit word, value k in the low half when k
// is even, as pack2x16float writes them. See storage_f32.wgsl for the two functions' contract.
fn stored_value(w: u32, k: u32) -> f32 {
  let pair = unpack2x16float(w);
  return select(pair.x, pair.y, (k & 1u) == 1u);
}

fn stored_vec4(p: vec2<u32>, k: u32) -> vec4<f32> {
  return vec4<f32>(unpack2x16float(p.x), unpack2x16float(p.y));
}
