// int8 storage (src/core/storageCodecs.ts): four signed bytes per 32-bit word, value k in byte k % 4
// (low byte first), dequantized as q / 127 · absmax[k] (absmax: qnet_layer.wgsl's binding 5). See
// storage_f32.wgsl for the two functions' contract.
fn stored_value(w: u32, k: u32) -> f32 {
  return unpack4x8snorm(w)[k & 3u] * absmax[k];
}

fn stored_vec4(p: u32, k: u32) -> vec4<f32> {
  return unpack4x8snorm(p) * vec4<f32>(absmax[k], absmax[k + 1u], absmax[k + 2u], absmax[k + 3u]);
}
