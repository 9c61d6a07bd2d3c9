import { describe, expect, it } from 'vitest';
import { savingFen, yuan } from '../src/lib/money.js';

describe('yuan', () => {
  it.each([
    [1200, '¥12.00'],
    [1990, '¥19.90'],
    [5, '¥0.05'],
    [0, '¥0.00'],
    [100001, '¥1000.01'],
    [-50, '-¥0.50'],
  ])('shows %i fen as %s', (fen, text) => {
    expect(yuan(fen)).toBe(text);
  });

  it('never shows floating-point noise', () => {
    expect(yuan(1001)).toBe('¥10.01');
    expect(yuan(29)).toBe('¥0.29'); // 0.29 * 100 = 28.999999999999996 in floating point
  });
});

describe('savingFen', () => {
  it('is the solo price minus the group price', () => {
    expect(savingFen({ soloPriceFen: 2990, groupPriceFen: 1990 })).toBe(1000);
  });

  it('is never negative', () => {
    expect(savingFen({ soloPriceFen: 100, groupPriceFen: 200 })).toBe(0);
  });
});
