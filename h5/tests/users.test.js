import { describe, expect, it } from 'vitest';
import { displayName } from '../src/lib/users.js';

describe('displayName (bug 7: the header tells users apart)', () => {
  it('names the sandbox test users', () => {
    expect(displayName('o-sandbox-alice')).toBe('爱丽丝');
    expect(displayName('o-sandbox-bob')).toBe('鲍勃');
    expect(displayName('o-sandbox-carol')).toBe('卡罗尔');
  });

  it('masks anyone else, keeping users apart without showing the openid', () => {
    const a = displayName('oUpF8uMuAJO_M2pxb1Q9zNjWeS6o');
    const b = displayName('oUpF8uMuAJO_M2pxb1Q9zNjWabcd');
    expect(a).not.toBe(b);
    expect(a).not.toContain('oUpF8uMuAJO');
    expect(a.startsWith('微信用户')).toBe(true);
  });
});
