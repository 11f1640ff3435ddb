// The bundle formats (docs/FORMATS.md): parsers and validators, pure TypeScript, and the one bundle reader.
export { sha256Hex } from './hash.ts';
export { verifyFile, type FileRef } from './fileRef.ts';
export * from './modelBundle.ts';
export * from './indexManifest.ts';
export * from './indexFiles.ts';
export * from './bundleReader.ts';
export * from './documents.ts';
export * from './fragments.ts';
export { buildMerkleSet, verifyMerkleMember } from './merkle.ts';
export * from './facets.ts';
