// The one error the C compile cache throws (see cache.ts). It lives in its own file so that the
// cache's parts (cache-store.ts, cache-compiler.ts) can throw it without importing each other.

/**
 * A refused cache directory, a missing C compiler, a compiler that failed on generated code, or
 * an artifact that could not be installed. The message says what to do about it.
 */
export class CompileCacheError extends Error {
  override readonly name = 'CompileCacheError';
}
