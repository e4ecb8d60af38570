/**
 * Every failure the library reports on purpose is a MobileNetError with a stable `code`,
 * so callers can branch on it and never see a wasm trap or a bare RangeError.
 */
export type ErrorCode =
  | 'INVALID_MODEL' // bytes are not a model we can read (truncated, bad offsets, not a .tflite)
  | 'UNSUPPORTED_MODEL' // a valid model using an op, dtype, activation or layout we do not run
  | 'INVALID_INPUT' // tensor of the wrong length / dtype, bad image
  | 'INVALID_OPTION' // bad option value
  | 'INVALID_IMAGE' // image bytes that cannot be decoded, or too large
  | 'OUT_OF_MEMORY' // the arena would exceed the memory limit
  | 'DISPOSED' // used after dispose()
  | 'IO'; // file / network problems (Node entry and CLI only)

export class MobileNetError extends Error {
  readonly code: ErrorCode;
  /**
   * `cause`: the unexpected exception (a wasm trap, a TypeError from a getter...) that the last
   * line of defence (src/runtime/guard.ts) turned into this error. Set only there, so an error
   * with a cause marks a check the library is missing, which the fuzzer counts as a failure.
   */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MobileNetError';
    this.code = code;
  }
}

export const invalidModel = (msg: string) => new MobileNetError('INVALID_MODEL', msg);
export const unsupportedModel = (msg: string) => new MobileNetError('UNSUPPORTED_MODEL', msg);
export const invalidInput = (msg: string) => new MobileNetError('INVALID_INPUT', msg);
export const invalidOption = (msg: string) => new MobileNetError('INVALID_OPTION', msg);
export const invalidImage = (msg: string) => new MobileNetError('INVALID_IMAGE', msg);
