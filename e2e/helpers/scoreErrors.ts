// How far GPU scores lie from the Float64 reference, as the parity pages report it: scores still
// NaN after poisonBuffers() were never written; errors are relative to each score's magnitude
// (referenceScores' Σ|terms|), so one tolerance fits every q-net size.

export interface ScoreErrors {
  maxRelErr: number;
  maxAbsErr: number;
  /** Scores left NaN (unwritten). */
  unwritten: number;
}

/** got[i] against ref[doc(i)] and mags[doc(i)] (doc: which reference entry score i is; default i itself). */
export function scoreErrors(got: Float32Array, ref: ArrayLike<number>, mags: ArrayLike<number>, doc: (i: number) => number = (i) => i): ScoreErrors {
  let maxRelErr = 0;
  let maxAbsErr = 0;
  let unwritten = 0;
  for (let i = 0; i < got.length; i++) {
    if (Number.isNaN(got[i])) {
      unwritten++;
      continue;
    }
    const j = doc(i);
    const e = Math.abs(got[i] - ref[j]);
    maxAbsErr = Math.max(maxAbsErr, e);
    maxRelErr = Math.max(maxRelErr, e / mags[j]);
  }
  return { maxRelErr, maxAbsErr, unwritten };
}
