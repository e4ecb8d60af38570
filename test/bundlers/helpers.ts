import { createServer, type RequestListener } from 'node:http';
import { expect } from 'vitest';
import { MobileNetError } from '../../src/errors.js';

/** The MobileNetError a promise rejects with (fails the test when it resolves or rejects with anything else). */
export async function failure(p: Promise<unknown>): Promise<MobileNetError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MobileNetError);
    return e as MobileNetError;
  }
  throw new Error('expected a MobileNetError');
}

export interface LocalServer {
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 with a port of its own, answering with `handler`. */
export async function serveLocal(handler: RequestListener): Promise<LocalServer> {
  const server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('server has no port');
  return { url: `http://127.0.0.1:${addr.port}`, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}
