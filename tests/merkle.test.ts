import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MERKLE_HASH_BYTES, buildMerkleSet, merkleProofLength, verifyMerkleMember } from '../src/core/formats/merkle.ts';

// An independent oracle: RFC 6962's tree hash is the same tree when n is a power of two; for any n
// this recursive definition (split where levels pair 2i, 2i+1 and carry an odd last node up) is.
const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
function rootOf(leaves: Buffer[]): Buffer {
  let level: Buffer[] = leaves.map((p) => sha(Buffer.of(0), p));
  while (level.length > 1) {
    const up: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(i + 1 < level.length ? sha(Buffer.of(1), level[i], level[i + 1]) : level[i]);
    level = up;
  }
  return level[0];
}

describe('Merkle sets', () => {
  const payloads = (n: number) => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`member ${i} ${'x'.repeat(i % 7)}`));

  it.each([1, 2, 3, 5, 8, 13, 100])('n = %i: the root is the oracle tree root and every member verifies to its payload', async (n) => {
    const ps = payloads(n);
    const set = await buildMerkleSet(ps);
    expect(set.root).toBe(rootOf(ps.map((p) => Buffer.from(p))).toString('hex'));
    for (let j = 0; j < n; j++) {
      expect(set.members[j].byteLength).toBe(ps[j].byteLength + merkleProofLength(j, n) * MERKLE_HASH_BYTES);
      expect(Buffer.from(await verifyMerkleMember(set.members[j], j, n, set.root, `m${j}`))).toEqual(Buffer.from(ps[j]));
    }
  });

  it('refuses a flipped byte anywhere (payload or proof), a member at another index, a truncated member', async () => {
    const n = 13;
    const set = await buildMerkleSet(payloads(n));
    const m = set.members[6];
    for (let at = 0; at < m.byteLength; at += 5) {
      const bad = m.slice();
      bad[at] ^= 1;
      await expect(verifyMerkleMember(bad, 6, n, set.root, 'chunks/00006.bin')).rejects.toThrow(/chunks\/00006\.bin: SHA-256 mismatch/);
    }
    await expect(verifyMerkleMember(set.members[7], 6, n, set.root, 'f')).rejects.toThrow(/SHA-256 mismatch/);
    await expect(verifyMerkleMember(m.subarray(0, 10), 6, n, set.root, 'f')).rejects.toThrow(/truncated|mismatch/);
    await expect(verifyMerkleMember(m, 13, n, set.root, 'f')).rejects.toThrow(/outside the set/);
  });

  it('a proof grows with log2 n, not n', () => {
    expect(merkleProofLength(0, 1)).toBe(0);
    expect(merkleProofLength(10_300, 10_301)).toBeLessThanOrEqual(14);
    expect(Math.max(...Array.from({ length: 1000 }, (_, j) => merkleProofLength(j, 1000)))).toBe(10);
  });
});
