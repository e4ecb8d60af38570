// Transitional: the q8 helpers moved to src/ops/q8-common.ts (ops in progress import them from here).
export * from '../q8-common.js';
