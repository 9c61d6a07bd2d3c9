import { describe, expect, it } from 'vitest';
import { currentRef, rememberRef } from '../src/lib/referral.js';

function memoryStorage(initial = {}) {
  const values = new Map(Object.entries(initial));
  return {
    getItem: key => (values.has(key) ? values.get(key) : null),
    setItem: (key, value) => values.set(key, value),
    removeItem: key => values.delete(key),
  };
}

describe('referral codes from share links', () => {
  it('keeps a well-formed code for the tab', () => {
    const storage = memoryStorage();
    rememberRef('abcd2345', storage);
    expect(currentRef(storage)).toBe('abcd2345');
  });

  it.each(['ABC', 'ab', 'abc-def', '<script>', ''])('drops the malformed code %s silently', bad => {
    const storage = memoryStorage();
    rememberRef(bad, storage);
    expect(currentRef(storage)).toBeUndefined();
  });

  it('keeps an earlier good code when a later link carries a bad one', () => {
    const storage = memoryStorage();
    rememberRef('abcd2345', storage);
    rememberRef('ABC', storage);
    expect(currentRef(storage)).toBe('abcd2345');
  });

  it('never sends a bad code an earlier page left in storage', () => {
    const storage = memoryStorage({ 'grouppay.ref': 'ABC' });
    expect(currentRef(storage)).toBeUndefined();
    expect(storage.getItem('grouppay.ref')).toBeNull();
  });
});
