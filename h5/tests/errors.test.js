import { describe, expect, it } from 'vitest';
import { describeError, isKnownCode, problemCode } from '../src/lib/errors.js';

const API_CODES = [
  'group-full', 'group-closed', 'already-paid', 'own-slot-on-behalf', 'too-many-attempts', 'payment-provider',
  'campaign-closed', 'unknown-campaign', 'unknown-group', 'invalid-request', 'invalid-campaign', 'unauthenticated',
  'forbidden', 'rate-limited', 'invalid-state', 'oauth-refused', 'oauth-provider', 'not-found', 'request-id-reused',
];

describe('describeError', () => {
  it.each(API_CODES)('maps %s to a Chinese sentence and at least one next action', code => {
    expect(isKnownCode(code)).toBe(true);
    const described = describeError(code);
    expect(described.message).toMatch(/[\u4e00-\u9fff]/);
    expect(described.message).not.toMatch(/[A-Za-z]{3,}/);
    expect(described.actions.length).toBeGreaterThan(0);
    for (const action of described.actions) {
      expect(action.label).toMatch(/^[\u4e00-\u9fff]+$/);
    }
  });

  it('offers a new group or other groups when the group is full', () => {
    expect(describeError('group-full').actions.map(a => a.label)).toEqual(['去开新团', '看看其他团']);
  });

  it('offers a retry when WeChat Pay is unavailable', () => {
    expect(describeError('payment-provider').actions.map(a => a.name)).toEqual(['retry']);
  });

  it('has a Chinese fallback for a code it does not know', () => {
    expect(describeError('something-new').message).toBe('出了点问题，请稍后再试。');
  });
});

describe('problemCode', () => {
  it('takes the problem code', () => {
    expect(problemCode(409, { code: 'group-full', detail: 'Every slot…' })).toBe('group-full');
  });

  it('falls back on the HTTP status', () => {
    expect(problemCode(401, null)).toBe('unauthenticated');
    expect(problemCode(404, {})).toBe('not-found');
    expect(problemCode(0, null)).toBe('network');
    expect(problemCode(500, null)).toBe('unknown');
  });
});
