// Models by name, for the portable core (src/index.ts) and other entries (tfjs-compat) to import.
export { load, listModels, fetchModelFile, closeMatches, findModel, DEFAULT_MODEL } from './load.js';
export type { ModelEntry, ModelFetchOptions, WeightsLoadOptions, FetchedModel, ModelCacheStore, CachedModelFile, FetchLike, FetchResponseLike, AbortSignalLike } from './types.js';
