// Tolerance of the GPU scorer against the Float64 reference, relative to Σ|y·w_out|. Shared by the
// spec (e2e/scorer.spec.ts, which says why) and its page (e2e/pages/scorer.ts, the top-k check).
export const SCORER_REL_TOL = 1e-5;
