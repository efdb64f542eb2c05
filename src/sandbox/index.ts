/** The sandbox area's public surface: the contract, the factory and integrity hashing. */
export * from './types.js';
export { createSandbox } from './create-sandbox.js';
export { hashTree, compareHashes, treeDigest, type TreeHashes, type EntryHash, type IntegrityChange } from './integrity.js';
