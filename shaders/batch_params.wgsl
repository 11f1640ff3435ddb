struct Params {
  rows: u32,          // documents in this batch
  in_offset: u32,     // word offset of the batch's first row in x_in
  score_offset: u32,  // index of the batch's first document in scores
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;