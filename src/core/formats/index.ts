// The bundle formats (docs/FORMATS.md): parsers and validators, pure TypeScript, and the one bundle reader.
export { sha256Hex } from './hash.ts';
export { verifyFile, type FileRef } from './fileRef.ts';
export * from './modelBundle.ts';
export * from './indexManifest.ts';
export * from './indexFiles.ts';
export * from './bundleReader.ts';
