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
