// f32 storage (src/core/storageCodecs.ts): one value per 32-bit word. Also the layout of the q-net's
// activations, which every layer after the first reads. Spliced into qnet_layer.wgsl by
// src/gpu/layerWgsl.ts, whose loaders pass these the words that hold the values they want:
//   stored_value(w, k)   value k from the word w that holds it
//   stored_vec4(p, k)    values k .. k+3 (k a multiple of 4) from the words that hold them
fn stored_value(w: u32, k: u32) -> f32 {
  return bitcast<f32>(w);
}

fn stored_vec4(p: vec4<u32>, k: u32) -> vec4<f32> {
  return bitcast<vec4<f32>>(p);
}
