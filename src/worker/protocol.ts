/**
 * The messages between a MobileNetWorker (calling thread) and the worker that runs the model.
 * One worker holds one model; every request carries an id and gets exactly one reply with it,
 * so any number of calls can be outstanding and replies may come back in any order.
 * Portable: no Node built-ins, no DOM types.
 */
import type { ErrorCode } from '../errors.js';

export type Request =
  | { id: number; op: 'load'; model: unknown; options: Record<string, unknown> }
  | { id: number; op: 'classify' | 'embed' | 'detect'; image: unknown; options: unknown }
  | { id: number; op: 'run'; input: unknown }
  | { id: number; op: 'runAll'; inputs: unknown };

export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; code: ErrorCode; message: string };

/** What a worker endpoint needs: post with a transfer list, and a way to hear requests. */
export interface Endpoint {
  post(message: Reply, transfer: unknown[]): void;
  listen(handler: (message: Request) => void): void;
}

/** The ArrayBuffer under a typed array, when it can be transferred (not shared, not detached). */
export function transferableBuffer(view: unknown): unknown[] {
  if (!ArrayBuffer.isView(view)) return [];
  const buffer = view.buffer;
  return buffer instanceof ArrayBuffer && buffer.byteLength > 0 ? [buffer] : [];
}
