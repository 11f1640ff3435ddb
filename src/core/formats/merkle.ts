// Merkle sets (docs/FORMATS.md, "Merkle sets"): many small files (a lexical index's term chunks, the
// per-document fragments) verified by SHA-256 without listing each in manifest.json, which would
// then grow with the collection and cost every first visit its size. The descriptor holds one root;
// member j is its payload followed by its proof, the sibling hashes from its leaf up to the root, so
// one fetch verifies every byte of it. Leaves and inner nodes are hashed with distinct prefixes
// (0x00, 0x01, as in RFC 6962) so a member can never pass as an inner node.
import { hexOf, sha256Bytes } from './hash.ts';

export const MERKLE_HASH_BYTES = 32;
const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

const leafHash = (payload: Uint8Array) => sha256Bytes(LEAF, payload);
const nodeHash = (left: Uint8Array, right: Uint8Array) => sha256Bytes(NODE, left, right);

/**
 * How many hashes member j of an n-member set carries: one per level where its node has a sibling
 * (levels pair nodes 2i and 2i+1; an unpaired last node goes up unchanged).
 */
export function merkleProofLength(j: number, n: number): number {
  let count = 0;
  for (let width = n, i = j; width > 1; width = Math.ceil(width / 2), i >>= 1) if ((i ^ 1) < width) count++;
  return count;
}

/** The root (lowercase hex) and each member's bytes (payload, then proof) of the payloads in order. */
export async function buildMerkleSet(payloads: Uint8Array[]): Promise<{ root: string; members: Uint8Array[] }> {
  if (payloads.length === 0) throw new Error('buildMerkleSet: a set needs at least one member');
  const levels: Uint8Array[][] = [await Promise.all(payloads.map(leafHash))];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    const up: Uint8Array[] = [];
    for (let i = 0; i < below.length; i += 2) up.push(i + 1 < below.length ? await nodeHash(below[i], below[i + 1]) : below[i]);
    levels.push(up);
  }
  const members = payloads.map((payload, j) => {
    const proof: Uint8Array[] = [];
    for (let l = 0, i = j; l < levels.length - 1; l++, i >>= 1) if ((i ^ 1) < levels[l].length) proof.push(levels[l][i ^ 1]);
    const out = new Uint8Array(payload.byteLength + proof.length * MERKLE_HASH_BYTES);
    out.set(payload);
    for (let k = 0; k < proof.length; k++) out.set(proof[k], payload.byteLength + k * MERKLE_HASH_BYTES);
    return out;
  });
  return { root: hexOf(levels[levels.length - 1][0]), members };
}

/** Member j's payload, once its bytes hash up to `root`; else an error naming `file`. */
export async function verifyMerkleMember(bytes: Uint8Array, j: number, n: number, root: string, file: string): Promise<Uint8Array> {
  if (!Number.isInteger(j) || j < 0 || j >= n) throw new Error(`${file}: member ${j} is outside the set of ${n}`);
  const proofBytes = merkleProofLength(j, n) * MERKLE_HASH_BYTES;
  if (bytes.byteLength < proofBytes) throw new Error(`${file}: truncated: ${bytes.byteLength} bytes, shorter than its ${proofBytes}-byte proof`);
  const payload = bytes.subarray(0, bytes.byteLength - proofBytes);
  let h = await leafHash(payload);
  let k = payload.byteLength;
  for (let width = n, i = j; width > 1; width = Math.ceil(width / 2), i >>= 1) {
    if ((i ^ 1) >= width) continue;
    const sibling = bytes.subarray(k, k + MERKLE_HASH_BYTES);
    k += MERKLE_HASH_BYTES;
    h = i & 1 ? await nodeHash(sibling, h) : await nodeHash(h, sibling);
  }
  if (hexOf(h) !== root) throw new Error(`${file}: SHA-256 mismatch: its bytes do not hash to the set's root (corrupted or from another build)`);
  return payload;
}
