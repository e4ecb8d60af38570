/**
 * The last line of the error contract: every public entry point runs its body through
 * `guard`, so whatever slips past the argument checks (a getter that throws, a Proxy, an
 * allocation that fails, a wasm trap) still reaches the caller as a MobileNetError with a
 * code, never as a bare TypeError / RangeError / RuntimeError.
 */
import { MobileNetError, type ErrorCode } from '../errors.js';

/** an exception's text, whatever was thrown */
export function messageOf(e: unknown): string {
  try {
    if (e instanceof Error) return `${e.name}: ${e.message}`;
    return String(e);
  } catch {
    return 'an unprintable exception';
  }
}

/** `e` as a MobileNetError: itself when it already is one, else wrapped with `code` and `where`. */
export function asMobileNetError(e: unknown, code: ErrorCode, where: string): MobileNetError {
  if (e instanceof MobileNetError) return e;
  const msg = messageOf(e);
  // engines report failed allocations as RangeError ("Array buffer allocation failed", "Invalid typed array length")
  if (e instanceof RangeError && /alloc|memory|Invalid (typed )?array length|too large/i.test(msg)) {
    return new MobileNetError('OUT_OF_MEMORY', `${where}: ${msg}`, { cause: e });
  }
  if (typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError) {
    return new MobileNetError(code, `${where}: a kernel trapped (${msg})`, { cause: e });
  }
  return new MobileNetError(code, `${where}: ${msg}`, { cause: e });
}

export function guard<T>(code: ErrorCode, where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw asMobileNetError(e, code, where);
  }
}

export async function guardAsync<T>(code: ErrorCode, where: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw asMobileNetError(e, code, where);
  }
}
